// Storage migration: every scenario of the `storage-migration` suite in the config. The
// guest's disk is copied to the destination's own storage; the agent reads it back
// afterwards, so a block the copy lost or left stale fails the run.
import { describe, expect, test } from 'vitest';
import { useMigbench } from 'migbench/vitest';

const bench = await useMigbench('storage-migration');

describe('storage-migration', () => {
  for (const run of bench.runs) {
    test(run.title, { timeout: run.timeoutMs }, async (context) => {
      const record = await bench.measure(run, context);
      expect(record).toCompleteMigration();
      expect(record).toKeepGuestIntact();
      expect(record).toMeetThresholds(run.scenario.thresholds);
      // The disk was really copied: the mirror ran and copied at least the guest's data.
      expect(record.metrics.mirrorTimeMs).toBeGreaterThan(0);
      expect(record.metrics.diskBytes).toBeGreaterThanOrEqual(run.scenario.guest.diskDataMiB * 1024 * 1024);
    });
  }
});
