// A/B runs (`migbench run --ab BASE_CONFIG HEAD_CONFIG`): each scenario both configs
// define, run alternately under the base and the head configuration on the same hosts.
// Records go to <out>/base and <out>/head; `migbench compare` judges them.
import { describe, expect, test } from 'vitest';
import { useMigbenchAb } from './suite.js';

const bench = await useMigbenchAb();

describe('a/b', () => {
  for (const run of bench.runs) {
    test(`${run.scenario.suite} > ${run.title}`, { timeout: run.timeoutMs }, async (context) => {
      const record = await bench.measure(run, context);
      // Both sides must really measure; whether head is worse is compare's verdict.
      expect(record).toCompleteMigration();
      expect(record).toKeepGuestIntact();
    });
  }
});
