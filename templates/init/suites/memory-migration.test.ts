// Memory migration: every scenario of the `memory-migration` suite in migbench.yaml, each
// run asserted against the thresholds the config gives it. Run it with `npx migbench run`.
import { describe, expect, test } from 'vitest';
import { useMigbench } from 'migbench/vitest';

const bench = await useMigbench('memory-migration');

describe('memory-migration', () => {
  for (const run of bench.runs) {
    test(run.title, { timeout: run.timeoutMs }, async (context) => {
      const record = await bench.measure(run, context);
      expect(record).toCompleteMigration();
      expect(record).toKeepGuestIntact();
      expect(record).toMeetThresholds(run.scenario.thresholds);
    });
  }
});
