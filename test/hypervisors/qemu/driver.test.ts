// The QEMU driver against recorded QEMU 7.2 conversations: what it runs on each host,
// what it sends over QMP, and how it turns QEMU's answers into an outcome.
import { describe, expect, test } from 'vitest';
import type { TargetHost } from '../../../src/hypervisors/hypervisor.js';
import { needsTcgDirtyBitmapWorkaround, QemuHypervisor } from '../../../src/hypervisors/qemu/driver.js';
import { scenarioFor } from '../../fixtures.js';
import { firstEventMs, loadTranscript, QmpReplay } from '../../fakes/qmp-replay.js';
import { FakeRunner, type Answer } from '../../fakes/runner.js';

const image = {
  dir: '/cache/guest',
  kernel: { name: 'vmlinuz', localPath: '/cache/guest/vmlinuz', sha256: 'a'.repeat(64) },
  initrd: { name: 'initrd.img', localPath: '/cache/guest/initrd.img', sha256: 'b'.repeat(64) },
  kernelPackage: 'linux-image-6.1.0-56-amd64 6.1.192-2',
  kernelVersion: '6.1.0-56-amd64',
  modules: [],
};
const probeTool = { name: 'migbench-probe', localPath: '/cache/tools/migbench-probe', sha256: 'c'.repeat(64) };

function host(role: 'source' | 'destination', transcript: string, timeShiftMs = 0): { host: TargetHost; runner: FakeRunner; replay: () => QmpReplay | undefined } {
  let replay: QmpReplay | undefined;
  const answer = (argv: readonly string[]): Answer => {
    if (argv[0] === 'sha256sum') {
      const file = [image.kernel, image.initrd, probeTool].find((f) => f.localPath === argv[1]);
      return file ? { stdout: `${file.sha256}  ${argv[1]}\n` } : { exitCode: 1 };
    }
    if (argv[1] === '--version') return { stdout: 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n' };
    if (argv[1] === 'daemon') return { stdout: role === 'source' ? '4242\n' : '4343\n' };
    if (argv[0] === 'cat' && argv[1]?.startsWith('/proc/')) return { exitCode: 1 }; // QEMU has exited
    if (argv[0] === 'tail') return { stdout: '' };
    return {};
  };
  const runner = new FakeRunner(role, answer, () => (replay = new QmpReplay(loadTranscript(transcript), { lenientPolling: true, timeShiftMs })));
  return {
    host: { role, runner, migrationAddress: role === 'source' ? '10.78.0.11' : '10.78.0.12', migrationInterface: 'mig0', bridge: 'br0', workDir: '/run/migbench' },
    runner,
    replay: () => replay,
  };
}

const launch = {
  vmId: 'mbabc123',
  guest: { memoryMiB: 256, vcpus: 1, diskMiB: 0, diskDataMiB: 0 },
  network: { address: '10.77.0.100/24', mac: '52:54:00:12:34:56' },
  agent: { hb_ms: '1' },
  storage: 'shared' as const,
};

describe(QemuHypervisor, () => {
  test('a completed migration: hosts prepared, QMP spoken as recorded, figures from QEMU', async () => {
    // Both recordings shifted by the same offset, so cross-host intervals survive.
    const shift = Date.now() + 1000 - firstEventMs(loadTranscript('migrate-completed.source.txt'));
    const src = host('source', 'migrate-completed.source.txt', shift);
    const dst = host('destination', 'migrate-completed.destination.txt', shift);
    const hv = new QemuHypervisor({ source: src.host, destination: dst.host, image, probeTool, accel: 'tcg', pollIntervalMs: 1 });
    const guest = await hv.startGuest(launch);
    const plan = scenarioFor({}).migration;
    await hv.prepareDestination(guest, plan);
    const outcome = await hv.migrate(guest, plan);

    expect(outcome.status).toBe('completed');
    expect(outcome.error).toBeNull();
    expect(guest.location).toBe('destination');
    expect(outcome.figures.totalTimeMs).toBe(639);
    expect(outcome.figures.downtimeMs).toBe(7);
    expect(outcome.figures.iterations).toBeGreaterThanOrEqual(3);
    // STOP on the source to RESUME on the destination, as the two QEMUs stamped them.
    expect(outcome.figures.stopToResumeMs).toBeGreaterThan(outcome.figures.downtimeMs!);
    expect(outcome.parameters).toMatchObject({ downtimeLimitMs: 300, maxBandwidthMiBps: 128 });
    expect(outcome.events.map((e) => `${e.side}:${e.name}`)).toEqual(expect.arrayContaining(['source:STOP', 'destination:RESUME']));
    expect(outcome.timeline.at(-1)?.status).toBe('completed');

    // The tap joins the host's bridge; QEMU runs detached with its log kept; the destination waits.
    expect(src.runner.calls).toContainEqual(['ip', 'tuntap', 'add', 'dev', 'mbtabc123', 'mode', 'tap']);
    expect(src.runner.calls).toContainEqual(['ip', 'link', 'set', 'dev', 'mbtabc123', 'master', 'br0', 'up']);
    const daemon = dst.runner.calls.find((c) => c[1] === 'daemon')!;
    expect(daemon.slice(0, 5)).toEqual(['/cache/tools/migbench-probe', 'daemon', '-o', '/run/migbench/vms/mbabc123-destination/qemu.log', '--']);
    expect(daemon.slice(-2)).toEqual(['-incoming', 'defer']);
    expect(dst.replay()!.received).toContain('migrate-incoming');
    // QEMU 7.2 under TCG: both sides get the same padded RAM, and the guest records why.
    for (const r of [src.runner, dst.runner]) expect(r.calls.find((c) => c[1] === 'daemon')).toEqual(expect.arrayContaining(['-m', '262152K']));
    expect(guest.workarounds).toEqual([expect.stringContaining('03bfc2188f')]);
    expect(src.replay()!.received).toContain('migrate');

    await hv.destroyGuest(guest);
    expect(src.replay()!.received.at(-1)).toBe('quit');
    expect(src.runner.calls).toContainEqual(['ip', 'link', 'del', 'mbtabc123']);
    expect(src.runner.calls).toContainEqual(['rm', '-rf', '/run/migbench/vms/mbabc123-source']);
  });

  test('turning a migrated guest around: the old source is quit and removed, the reversed driver takes it back', async () => {
    const shift = Date.now() + 1000 - firstEventMs(loadTranscript('migrate-completed.source.txt'));
    const src = host('source', 'migrate-completed.source.txt', shift);
    const dst = host('destination', 'migrate-completed.destination.txt', shift);
    // Pinned by host, not by role: the guest's QEMU keeps its host's CPUs whichever way it goes.
    const hv = new QemuHypervisor({ source: { ...src.host, cpus: '0' }, destination: { ...dst.host, cpus: '1-3' }, image, probeTool, accel: 'tcg', pollIntervalMs: 1 });
    const guest = await hv.startGuest(launch);
    const plan = scenarioFor({}).migration;
    await expect(hv.turnAround(guest)).rejects.toThrow('guest mbabc123 is not on the destination (source): only a migrated guest turns around');
    await hv.prepareDestination(guest, plan);
    await hv.migrate(guest, plan);
    const before = { src: src.runner.calls.length, dst: dst.runner.calls.length };

    const turned = await hv.turnAround(guest);
    // The old source's QEMU and what it had: gone from the source host, nothing touched on the destination.
    const srcCalls = src.runner.calls.slice(before.src);
    expect(srcCalls).toContainEqual(['ip', 'link', 'del', 'mbtabc123']);
    expect(srcCalls).toContainEqual(['rm', '-rf', '/run/migbench/vms/mbabc123-source']);
    expect(dst.runner.calls.slice(before.dst).filter((c) => c[0] === 'rm' || c[0] === 'kill')).toEqual([]);
    // To the reversed driver the guest runs on its source, which is the destination host.
    expect(turned.guest).toMatchObject({ vmId: 'mbabc123', location: 'source' });
    expect(turned.hypervisor.agentEndpoint(turned.guest, 'source')).toMatchObject({ runner: dst.runner, socketPath: '/run/migbench/vms/mbabc123-destination/agent.sock' });
    expect(turned.hypervisor.agentEndpoint(turned.guest, 'destination')).toBeNull();
    // The way back: an incoming QEMU on the old source host.
    await turned.hypervisor.prepareDestination(turned.guest, plan);
    expect(src.runner.calls.find((c) => c[1] === 'daemon')!.slice(4, 8)).toEqual(['--', 'taskset', '-c', '0']);
    expect(dst.runner.calls.find((c) => c[1] === 'daemon')!.slice(4, 8)).toEqual(['--', 'taskset', '-c', '1-3']);
    const incoming = src.runner.calls.slice(before.src).find((c) => c[1] === 'daemon')!;
    expect(incoming.slice(0, 8)).toEqual(['/cache/tools/migbench-probe', 'daemon', '-o', '/run/migbench/vms/mbabc123-destination/qemu.log', '--', 'taskset', '-c', '0']);
    expect(incoming.slice(-2)).toEqual(['-incoming', 'defer']);
    // Turning around twice gives the original driver back: the guests are shared.
    expect((turned.hypervisor as QemuHypervisor)['reverse']()).toBe(hv);
    await hv.close();
  });

  test('a "completed" answer without its times (QEMU 7.2 race) is asked again, never recorded as 0 ms', async () => {
    const shift = Date.now() + 1000 - firstEventMs(loadTranscript('migrate-completed.source.txt'));
    const src = host('source', 'migrate-completed-early.source.txt', shift);
    const dst = host('destination', 'migrate-completed.destination.txt', shift);
    const hv = new QemuHypervisor({ source: src.host, destination: dst.host, image, probeTool, accel: 'tcg', pollIntervalMs: 1 });
    const guest = await hv.startGuest(launch);
    const plan = scenarioFor({}).migration;
    await hv.prepareDestination(guest, plan);
    const outcome = await hv.migrate(guest, plan);
    expect(outcome.figures).toMatchObject({ totalTimeMs: 639, downtimeMs: 7 });
    expect(outcome.timeline.filter((s) => s.status === 'completed')).toHaveLength(2);
    await hv.destroyGuest(guest);
  });

  test('a migration QEMU cancels at the timeout resolves as cancelled, the guest stays on the source', async () => {
    const src = host('source', 'migrate-cancelled.source.txt');
    const dst = host('destination', 'migrate-cancelled.destination.txt');
    const hv = new QemuHypervisor({ source: src.host, destination: dst.host, image, probeTool, accel: 'tcg', pollIntervalMs: 1 });
    const guest = await hv.startGuest(launch);
    const plan = { ...scenarioFor({}).migration, maxBandwidthMiBps: 4, timeoutMs: 1000 };
    await hv.prepareDestination(guest, plan);
    const outcome = await hv.migrate(guest, plan);
    expect(outcome.status).toBe('cancelled');
    expect(outcome.error).toMatchObject({ code: 'MB_TIMEOUT' });
    expect(guest.location).toBe('source');
    expect(outcome.figures.downtimeMs).toBeNull();
    expect(src.replay()!.received).toContain('migrate_cancel');
    await hv.destroyGuest(guest);
  });

  test('QEMU that exits while starting is reported with its log', async () => {
    const runner = new FakeRunner(
      'source',
      (argv) => {
        if (argv[0] === 'sha256sum') return { stdout: `${[image.kernel, image.initrd, probeTool].find((f) => f.localPath === argv[1])?.sha256 ?? ''}  x\n` };
        if (argv[1] === '--version') return { stdout: 'QEMU emulator version 7.2.22\n' };
        if (argv[1] === 'daemon') return { stdout: '4242\n' };
        if (argv[0] === 'cat') return { exitCode: 1 };
        if (argv[0] === 'tail') return { stdout: 'qemu-system-x86_64: -netdev tap,id=net0: could not open /dev/net/tun: No such device' };
        return {};
      },
      () => {
        throw new Error('connection refused');
      },
    );
    const hv = new QemuHypervisor({
      source: { role: 'source', runner, migrationAddress: 'a', migrationInterface: 'mig0', bridge: 'br0', workDir: '/w' },
      destination: { role: 'destination', runner, migrationAddress: 'b', migrationInterface: 'mig0', bridge: 'br0', workDir: '/w' },
      image,
      probeTool,
      accel: 'tcg',
    });
    await expect(hv.startGuest(launch)).rejects.toMatchObject({ code: 'MB_GUEST', message: expect.stringMatching(/QEMU exited while starting: .*could not open \/dev\/net\/tun/) });
  });
});

describe(needsTcgDirtyBitmapWorkaround, () => {
  test('QEMU before 9.0 under TCG only', () => {
    expect(needsTcgDirtyBitmapWorkaround('tcg', 'QEMU 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)')).toBe(true);
    expect(needsTcgDirtyBitmapWorkaround('tcg', 'QEMU emulator version 8.2.2')).toBe(true);
    expect(needsTcgDirtyBitmapWorkaround('tcg', 'QEMU 9.0.0')).toBe(false);
    expect(needsTcgDirtyBitmapWorkaround('kvm', 'QEMU 7.2.22')).toBe(false);
    expect(needsTcgDirtyBitmapWorkaround('tcg', 'something else')).toBe(false);
  });
});
