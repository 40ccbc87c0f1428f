// Real libvirt in the lab: a libvirtd per host, `virsh migrate --live` peer-to-peer for
// memory migration on shared storage, client-managed with --copy-storage-all for storage
// migration, domjobabort at the timeout; the same probes as for QEMU-direct.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { resolveScenarios } from '../../src/config/scenarios.js';
import { runMigration, type RunRequest } from '../../src/engine/migration.js';
import type { MigrationRecord } from '../../src/generated/results.js';
import { labUp } from '../../src/lab/lab.js';
import { LocalRunner } from '../../src/exec/local.js';
import { validateRecordSchema } from '../../src/model/schema.js';
import { connectTarget, type ConnectedTarget } from '../../src/engine/target.js';
import { domainName } from '../../src/hypervisors/libvirt/domain.js';
import { GuestChain } from '../../src/engine/chain.js';
import { isTcgDirtyPageLoss } from './helpers.js';
import { labDir, labName } from '../../src/model/paths.js';
import { namespacePids } from '../../src/lab/processes.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const config = parseConfig(
  `
targets:
  lab-libvirt-direct: { hypervisor: libvirt, lab: true, libvirt: { mode: managed-direct } }
  lab-libvirt-tuned:
    hypervisor: libvirt
    lab: true
    libvirt:
      domainXml: <cpu mode="custom" match="exact"><model fallback="forbid">qemu64</model><feature policy="require" name="ssse3"/></cpu>
suites:
  it:
    scenarios:
      - { name: idle, target: lab-libvirt, guest: { memoryMiB: 256 }, migration: { kind: memory } }
      - { name: tuned, target: lab-libvirt-tuned, guest: { memoryMiB: 256 }, migration: { kind: memory } }
      - { name: storage, target: lab-libvirt-direct, guest: { memoryMiB: 256, diskMiB: 256, diskDataMiB: 64 }, migration: { kind: storage } }
      - name: never-converges
        target: lab-libvirt
        guest: { memoryMiB: 256 }
        workload: { memory: { workingSetMiB: 64, dirtyRateMBps: 64 } }
        migration: { kind: memory, maxBandwidthMiBps: 2, timeoutMs: 8000 }
`,
  'libvirt-integration.yaml',
);
const scenarios = Object.fromEntries(resolveScenarios(config, 'it').map((s) => [s.name, s]));

/**
 * These tests are about the driver: on the one known QEMU < 9 TCG dirty-page loss
 * (helpers.ts isTcgDirtyPageLoss) they try again; any other loss fails them.
 */
async function migrateSurvivingTcgBug(target: ConnectedTarget, request: RunRequest): Promise<MigrationRecord> {
  let record: MigrationRecord | undefined;
  // 5 attempts: at 5 losses in 20, all 5 lost happens once in 1000 (3 attempts: 1.6 %).
  for (let attempt = 1; attempt <= 5; attempt++) {
    record = await runMigration(target, request);
    if (!isTcgDirtyPageLoss(record)) return record;
    process.stderr.write(`libvirt ${request.scenario.name}, attempt ${attempt}: ${record.integrity.problem} (QEMU < 9.0 TCG dirty-page loss); trying again\n`);
  }
  return record!;
}

async function virsh(host: 'src' | 'dst', args: readonly string[]): Promise<string> {
  const pid = (await new LocalRunner().run(['cat', join(labDir(), host, 'sshd.pid')])).stdout.trim();
  return (await new LocalRunner().run(['nsenter', '-t', pid, '-m', '-n', '--', 'virsh', ...args])).stdout.trim();
}

/** What runs in the lab's hosts under this program name, as `host: pid args`. */
async function labPrograms(comm: string): Promise<string[]> {
  const found: string[] = [];
  for (const host of ['src', 'dst']) {
    for (const pid of await namespacePids(new LocalRunner(), `${labName()}-${host}`)) {
      if ((await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() !== comm) continue;
      found.push(`${host}: ${pid} ${(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ').trim()}`);
    }
  }
  return found;
}

async function domains(host: 'src' | 'dst'): Promise<string> {
  return virsh(host, ['-q', 'list', '--all', '--name']);
}

let target: ConnectedTarget;
let direct: ConnectedTarget;
beforeAll(async () => {
  await labUp({ withLibvirt: true });
  target = await connectTarget(config, 'lab-libvirt');
  direct = await connectTarget(config, 'lab-libvirt-direct');
});
afterAll(async () => {
  await target?.close();
  await direct?.close();
});

describe('libvirt memory migration (virsh migrate --live --p2p, shared storage)', () => {
  let record: MigrationRecord;
  beforeAll(async () => {
    record = await migrateSurvivingTcgBug(target, { scenario: scenarios.idle!, suite: 'it', test: 'idle', repetition: 1 });
  });

  test('completes with the guest intact on the destination, and a valid record', () => {
    expect(record.error).toBeNull();
    expect(record).toCompleteMigration();
    expect(record).toKeepGuestIntact();
    expect(record).toMatchObject({ hypervisor: 'libvirt', target: 'lab-libvirt' });
    expect(record.environment.source.hypervisorVersion).toMatch(/^libvirt \d+\.\d+\.\d+, QEMU \d+\.\d+/);
    expect(validateRecordSchema(record), JSON.stringify(validateRecordSchema.errors)).toBe(true);
  });

  test("libvirt's statistics in migbench's names: time, downtime with and without network, setup, bytes, iterations", () => {
    const m = record.metrics;
    expect(m.totalTimeMs!).toBeGreaterThan(0);
    expect(m.downtimeMs!).toBeGreaterThan(0);
    expect(m.downtimeNetMs!).toBeGreaterThan(0);
    expect(m.downtimeNetMs!).toBeLessThanOrEqual(m.downtimeMs!);
    expect(m.setupTimeMs!).toBeGreaterThanOrEqual(0);
    expect(m.iterations!).toBeGreaterThanOrEqual(2);
    expect(m.transferredBytes!).toBeGreaterThan(32 * 1024 * 1024);
    expect(m.diskBytes).toBeNull();
    expect(record.parameters.downtimeLimitMs).toBe(300);
  });

  test('the three views of downtime and the bytes on the wire are measured, each from its source', () => {
    const m = record.metrics;
    for (const key of ['observedDowntimeMs', 'guestPauseMs', 'stopToResumeMs'] as const) expect(m[key], key).toBeGreaterThan(0);
    expect(record.metricSources).toMatchObject({
      downtimeMs: 'hypervisor',
      downtimeNetMs: 'hypervisor',
      observedDowntimeMs: 'probe',
      guestPauseMs: 'guest',
      wireBytes: 'wire',
      wireRamBytes: 'wire',
    });
    // The guest cannot answer between QEMU's STOP (sent once the vCPUs are paused) and RESUME
    // (sent before they run again), and the probe takes kernel receive timestamps: the network
    // gap holds the hypervisor's own stop→resume. libvirt's `downtime` is no such bound: it is
    // libvirtd's clock, from the source daemon handling STOP to the destination daemon ending
    // its Finish phase after resuming, so a busy daemon makes it longer than the pause (seen
    // in CI: downtime 96 ms, network gap 87.5 ms).
    expect(m.observedDowntimeMs!).toBeGreaterThanOrEqual(m.stopToResumeMs!);
    expect(m.wireBytes!).toBeGreaterThanOrEqual(m.transferredBytes!);
    expect(m.wireBytes! / m.transferredBytes!).toBeLessThan(1.05);
    expect(Math.abs(m.wireRamBytes! - m.wireBytes!) / m.wireBytes!).toBeLessThan(0.02);
  });

  test('what libvirt did, on both hosts: destination started and resumed, source suspended then stopped', () => {
    const names = record.events.map((e) => `${e.side} ${e.name} ${e.detail ?? ''}`.trim());
    expect(names).toContain('destination libvirt:lifecycle Started Migrated');
    expect(names).toContain('source libvirt:lifecycle Suspended Migrated');
    expect(names).toContain('destination libvirt:lifecycle Resumed Migrated');
    expect(names).toContain('source STOP');
    expect(names).toContain('destination RESUME');
    expect(names).toContain('source MIGRATION completed');
  });

  test('its event watchers end with it: no virsh is left running on either host', async () => {
    // A `virsh event --loop` with nothing more to say outlived its SSH channel before.
    expect(await labPrograms('virsh')).toEqual([]);
  });
});

describe("a target's own domain XML (libvirt.domainXml)", () => {
  let record: MigrationRecord;
  let tunedTarget: ConnectedTarget;
  let destinationXml = '';
  beforeAll(async () => {
    tunedTarget = await connectTarget(config, 'lab-libvirt-tuned');
    record = await migrateSurvivingTcgBug(tunedTarget, {
      scenario: scenarios.tuned!,
      suite: 'it',
      test: 'tuned',
      repetition: 1,
      afterMigration: async (guest) => {
        destinationXml = await virsh('dst', ['dumpxml', domainName(guest.vmId)]);
      },
    });
  });
  afterAll(async () => tunedTarget?.close());

  test('is the domain libvirt runs on the destination after the migration, and the record says so', () => {
    expect(record.error).toBeNull();
    expect(record).toCompleteMigration();
    expect(destinationXml).toContain("<model fallback='forbid'>qemu64</model>");
    expect(destinationXml).toContain("<feature policy='require' name='ssse3'/>");
    expect(record.guest.domainXml).toBe(
      ["<cpu mode='custom' match='exact'>", "  <model fallback='forbid'>qemu64</model>", "  <feature policy='require' name='ssse3'/>", '</cpu>'].join('\n'),
    );
  });
});

describe('libvirt storage migration (client-managed, --copy-storage-all to each host own image folder)', () => {
  let record: MigrationRecord;
  beforeAll(async () => {
    record = await migrateSurvivingTcgBug(direct, { scenario: scenarios.storage!, suite: 'it', test: 'storage', repetition: 1 });
  });

  test('completes with memory and disk intact on the destination', () => {
    expect(record.error).toBeNull();
    expect(record).toCompleteMigration();
    expect(record).toKeepGuestIntact();
    expect(record.integrity).toMatchObject({ location: 'destination', diskIntact: true, badBlocks: 0 });
  });

  test('the disk copy: mirror time from QEMU events, disk bytes from libvirt, the disk stream on the wire', () => {
    const m = record.metrics;
    expect(m.mirrorTimeMs!).toBeGreaterThan(0);
    expect(record.storage!.mirrorStartMs).toBeGreaterThan(0);
    expect(record.storage!.mirrorReadyMs!).toBeGreaterThan(record.storage!.mirrorStartMs!);
    // libvirt counts the whole 256 MiB image; only the 64 MiB the guest wrote cross the wire.
    expect(m.diskBytes).toBe(256 * 1024 * 1024);
    expect(m.wireDiskBytes!).toBeGreaterThan(64 * 1024 * 1024);
    expect(m.wireDiskBytes!).toBeLessThan(96 * 1024 * 1024);
    for (const key of ['downtimeMs', 'observedDowntimeMs', 'guestPauseMs', 'stopToResumeMs', 'wireBytes'] as const) expect(m[key], key).toBeGreaterThan(0);
  });

  test('the images are removed from both hosts afterwards', async () => {
    for (const host of ['src', 'dst'] as const) {
      const out = await new LocalRunner().run(['ls', join(labDir(), host, 'libvirt/lib/images/migbench')], { check: false });
      expect(out.stdout.trim(), host).toBe('');
    }
  });
});

describe('a libvirt migration that cannot converge in time', () => {
  test('is aborted with domjobabort at its timeout; the guest keeps running intact on the source', async () => {
    const record = await runMigration(target, { scenario: scenarios['never-converges']!, suite: 'it', test: 'never', repetition: 1 });
    expect(record.status).toBe('cancelled');
    expect(record.error).toMatchObject({ code: 'MB_TIMEOUT' });
    expect(record.error!.message).toMatch(/within 8000 ms and was aborted/);
    expect(record.integrity).toMatchObject({ location: 'source', guestAlive: true, memoryIntact: true });
    expect(await domains('src')).toBe('');
    expect(await domains('dst')).toBe('');
  });
});

describe('libvirt ping-pong: one guest migrated out, back and out again', () => {
  const records: MigrationRecord[] = [];
  const intact = (r: MigrationRecord) => r.status === 'completed' && r.integrity.problem === null;
  const backIntact = (r: MigrationRecord) => r.chain!.direction === 'back' && intact(r);
  const domainsAfter: Record<'src' | 'dst', string> = { src: '', dst: '' };
  beforeAll(async () => {
    const chain = new GuestChain('libvirt idle', { fresh: false, samplesPerBoot: 5 });
    // Three samples, more (up to 10) only while the known TCG loss keeps a guest from coming
    // back intact: at 5 losses in 20 (helpers.ts), 3 samples bring one back intact 70 % of
    // the time, 10 samples 99.4 %. Any other loss ends the chain, and the test fails.
    for (let i = 1; i <= 10; i++) {
      const record = await runMigration(target, { scenario: scenarios.idle!, suite: 'it', test: `idle #${i}`, repetition: i, chain });
      records.push(record);
      if (!intact(record) && !isTcgDirtyPageLoss(record)) break;
      if (i >= 3 && records.some(backIntact)) break;
    }
    await chain.end();
    domainsAfter.src = await domains('src');
    domainsAfter.dst = await domains('dst');
  });

  test('each sample takes the guest the last one left, from the host it is on; a damaged one is replaced by a fresh boot', () => {
    const summary = records.map((r) => `${r.chain!.id} #${r.chain!.position} ${r.chain!.direction} ${r.chain!.boot}: ${r.status}, ${r.integrity.problem ?? 'intact'}`).join('; ');
    for (const [i, record] of records.entries()) {
      const previous = records[i - 1];
      if (!previous) continue;
      // libvirt cannot pad the RAM against QEMU 7.2's TCG dirty-page loss (above): a guest it
      // damaged ends the chain, and the chain must then boot, not carry the damage on.
      const kept = previous.status === 'completed' && previous.integrity.problem === null;
      if (kept) {
        expect(record.chain, summary).toMatchObject({
          id: previous.chain!.id,
          position: previous.chain!.position + 1,
          boot: 'reused',
          direction: previous.chain!.direction === 'out' ? 'back' : 'out',
        });
        expect(record.environment.source.host, summary).toBe(previous.environment.destination.host);
      } else {
        expect(record.chain, summary).toMatchObject({
          position: 1,
          boot: 'fresh',
          direction: 'out',
          freshBecause: expect.stringMatching(/^the previous sample (failed|found the guest damaged)/),
        });
      }
    }
    // Migrated back at least once, intact; any loss on the way was the known one.
    expect(records.some(backIntact), summary).toBe(true);
    for (const record of records) if (!intact(record)) expect(isTcgDirtyPageLoss(record), summary).toBe(true);
  });

  test('ending the chain leaves no domain on either host', () => {
    expect(domainsAfter).toEqual({ src: '', dst: '' });
  });
});
