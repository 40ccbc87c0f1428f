// What the libvirt driver asks virsh to do, with fake hosts: the migrate command line for
// each kind and knob, and libvirt's own message when virsh fails.
import { describe, expect, test } from 'vitest';
import type { TargetHost } from '../../../src/hypervisors/hypervisor.js';
import { LibvirtHypervisor } from '../../../src/hypervisors/libvirt/driver.js';
import { FakeRunner } from '../../fakes/runner.js';

function host(role: 'source' | 'destination', runner = new FakeRunner(role)): TargetHost {
  return { role, runner, migrationAddress: role === 'source' ? '10.78.0.11' : '10.78.0.12', migrationInterface: 'mig0', bridge: 'br0', workDir: '/run/migbench' };
}

const file = { name: 'f', localPath: '/dev/null', sha256: '0' };
const image = { kernel: file, initrd: file } as never;

function driver(options: Partial<ConstructorParameters<typeof LibvirtHypervisor>[0]> = {}) {
  return new LibvirtHypervisor({ source: host('source'), destination: host('destination'), image, probeTool: file, ...options });
}

describe('virsh migrate argv', () => {
  test('memory migration: live, peer-to-peer, to the destination daemon, the stream to the chosen port', () => {
    expect(driver().migrateArgv('migbench-a', { kind: 'memory', timeoutMs: 1000 }, { ram: 50000 })).toEqual([
      'migrate',
      '--live',
      '--p2p',
      'migbench-a',
      'qemu+tcp://10.78.0.12/system',
      'tcp://10.78.0.12:50000',
    ]);
  });

  test('storage migration client-managed: --copy-storage-all with the NBD port; --unsafe only for memory migration', () => {
    expect(
      driver({ mode: 'managed-direct', unsafe: true, destinationUri: 'qemu+ssh://hv2/system' }).migrateArgv(
        'migbench-a',
        { kind: 'storage', timeoutMs: 1000 },
        { ram: 50000, disk: 60001 },
      ),
    ).toEqual(['migrate', '--live', '--copy-storage-all', '--disks-port', '60001', 'migbench-a', 'qemu+ssh://hv2/system', 'tcp://10.78.0.12:50000']);
    expect(driver({ unsafe: true }).migrateArgv('d', { kind: 'memory', timeoutMs: 1 }, { ram: 1 })).toContain('--unsafe');
  });

  test('knobs become virsh options', () => {
    const argv = driver().migrateArgv('d', { kind: 'memory', timeoutMs: 1, autoConverge: true, postcopyAfterMs: 500, multifdChannels: 4, xbzrleCacheMiB: 64 }, { ram: 1 });
    expect(argv).toEqual(
      expect.arrayContaining([
        '--auto-converge',
        '--postcopy',
        '--parallel',
        '--parallel-connections',
        '4',
        '--comp-methods',
        'xbzrle',
        '--comp-xbzrle-cache',
        String(64 * 1024 * 1024),
      ]),
    );
  });
});

describe('virsh failures', () => {
  test("carry libvirt's own message, the host and the command", async () => {
    const stderr = 'error: failed to connect to the hypervisor\nerror: Failed to connect socket to /run/libvirt/libvirt-sock: No such file or directory\n';
    const runner = new FakeRunner('lab src', (argv) => (argv[0] === 'virsh' ? { exitCode: 1, stderr } : { stdout: '0 /dev/null\n' }));
    await expect(driver({ source: host('source', runner) }).describe()).rejects.toMatchObject({
      code: 'MB_LIBVIRT',
      message: 'lab src: virsh version failed: failed to connect to the hypervisor: Failed to connect socket to /run/libvirt/libvirt-sock: No such file or directory',
      context: { host: 'lab src' },
    });
  });
});
