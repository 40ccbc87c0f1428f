// Scenario matrices (`migbench run --matrix NAME`): every scenario the matrix expands to,
// then what Hu et al. (2013) found, checked on this matrix's own medians.
import { describe, expect, test } from 'vitest';
import { studyFindings } from '../analysis/findings.js';
import type { MigrationRecord } from '../generated/results.js';
import { selectedMatrices, useMigbenchMatrix } from './suite.js';

for (const name of selectedMatrices()) {
  const bench = await useMigbenchMatrix(name);
  const records: MigrationRecord[] = [];

  describe(name, () => {
    for (const run of bench.runs) {
      test(run.title, { timeout: run.timeoutMs }, async (context) => {
        const record = await bench.measure(run, context);
        records.push(record);
        if (record.status === 'cancelled') {
          // Non-convergence is a result: the guest must still run, intact, on the source.
          expect(record.integrity.location).toBe('source');
        } else {
          expect(record).toCompleteMigration();
        }
        expect(record).toKeepGuestIntact();
        // A matrix explores; thresholds are optional there.
        if (Object.keys(run.scenario.thresholds).length) expect(record).toMeetThresholds(run.scenario.thresholds);
      });
    }

    describe('what the study found', () => {
      test('holds on this matrix', () => {
        const checks = studyFindings(records);
        for (const check of checks) console.info(`${check.finding}:\n  ${check.comparisons.join('\n  ')}`);
        const broken = checks.filter((c) => c.violations.length).map((c) => `${c.finding}:\n  ${c.violations.join('\n  ')}`);
        expect(broken, broken.join('\n')).toEqual([]);
      });
    });
  });
}
