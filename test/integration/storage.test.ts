// Storage migration in the real lab: the disk is copied while the guest keeps writing,
// and the guest reads every block back afterwards. Damage done to the destination's
// disk after the migration must show up as damage, or the check proves nothing.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runMigration } from '../../src/engine/migration.js';
import type { MigrationRecord } from '../../src/generated/results.js';
import type { QemuHypervisor } from '../../src/hypervisors/qemu/driver.js';
import { connectTarget, type ConnectedTarget } from '../../src/engine/target.js';
import { scenario } from './helpers.js';

const MiB = 1024 * 1024;
const { config, scenario: writing } = scenario(
  '      - { name: storage-writes, guest: { memoryMiB: 256, diskMiB: 256, diskDataMiB: 64 }, workload: { disk: { workingSetMiB: 16, writeRateMBps: 2 } }, migration: { kind: storage, timeoutMs: 60000 } }\n',
);

describe('storage migration', () => {
  let target: ConnectedTarget;
  let record: MigrationRecord;

  beforeAll(async () => {
    target = await connectTarget(config, 'lab');
    record = await runMigration(target, { scenario: writing, suite: 'it', test: 'storage-writes', repetition: 1 });
  });
  afterAll(async () => target?.close());

  test('completes with the guest running on the destination and every disk block as the guest wrote it', () => {
    expect(record.status, JSON.stringify(record.error)).toBe('completed');
    expect(record.kind).toBe('storage');
    expect(record.integrity).toMatchObject({ location: 'destination', guestAlive: true, memoryIntact: true, diskIntact: true, blocksChecked: (64 * MiB) / 4096, badBlocks: 0 });
    // The guest really wrote while its disk was being copied.
    expect(record.storage!.guestBlocksWritten).toBeGreaterThan(0);
  });

  test('the mirror phase is recorded apart from the memory phase', () => {
    const s = record.storage!;
    expect(s.mirrorStartMs).toBeLessThan(s.mirrorReadyMs!);
    expect(s.mirrorReadyMs).toBeLessThanOrEqual(0);
    expect(record.metrics.mirrorTimeMs).toBeCloseTo(s.mirrorReadyMs! - s.mirrorStartMs!, 0);
    expect(s.cancelMs).toBeGreaterThan(0);
    // The job copies the whole virtual disk (zeroes included) and at least the data on it.
    expect(record.metrics.diskBytes).toBeGreaterThanOrEqual(256 * MiB);
    expect(record.metrics.totalTimeMs).toBeGreaterThan(record.metrics.mirrorTimeMs!);
  });

  test('wire bytes split into the RAM stream and the disk copy, and the parts add up', () => {
    const { wireBytes, wireRamBytes, wireDiskBytes, transferredBytes } = record.metrics;
    expect(wireDiskBytes).toBeGreaterThan(64 * MiB);
    expect(wireRamBytes).toBeGreaterThan(transferredBytes!);
    // Only the two flows use the migration link; counters differ by a few control packets.
    expect(Math.abs(wireRamBytes! + wireDiskBytes! - wireBytes!) / wireBytes!).toBeLessThan(0.01);
  });

  test('the stop→resume downtime includes bringing the copy in sync, which QEMU’s own figure leaves out', () => {
    expect(record.metrics.stopToResumeMs).toBeGreaterThanOrEqual(record.storage!.cancelMs!);
  });

  test('a block damaged on the destination after the copy is reported as damage', async () => {
    let hmp: unknown;
    const damaged = await runMigration(target, {
      scenario: writing,
      suite: 'it',
      test: 'storage-damaged',
      repetition: 1,
      // Overwrite one block at 32 MiB, beyond the 16 MiB the guest keeps rewriting, under the guest's feet.
      afterMigration: async (guest) => {
        hmp = await (target.hypervisor as QemuHypervisor).execute(guest, 'destination', 'human-monitor-command', {
          'command-line': 'qemu-io -d /machine/peripheral/vdisk0/virtio-backend "write -P 0x5a 33554432 4096"',
        });
      },
    });
    expect(damaged.status).toBe('completed');
    // qemu-io prints its report to QEMU's stdout; the monitor answers only errors.
    expect(String(hmp)).not.toMatch(/error/i);
    // Named: the block at 32 MiB is block 8192 of 4 KiB.
    expect(damaged.integrity).toMatchObject({ guestAlive: true, diskIntact: false, badBlocks: 1, firstBadBlock: 8192 });
    expect(damaged.integrity.problem).toContain('1 disk blocks do not read back as written (first: block 8192)');
  });
});
