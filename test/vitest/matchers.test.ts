import { describe, expect, test } from 'vitest';
import type { MigrationRecord } from '../../src/generated/results.js';
import { readResults } from '../../src/model/results.js';
import { projectPath } from '../../src/model/paths.js';

const record = async (): Promise<MigrationRecord> => (await readResults(projectPath('fixtures/results/lab-tcg.json'))).records.find((r) => r.scenario === 'idle-256')!;

function failureOf(assertion: () => void): string {
  try {
    assertion();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the assertion to fail');
}

describe('migbench matchers', () => {
  test('thresholds that hold pass, and the failure message shows measured against threshold', async () => {
    const r = await record();
    expect(r).toCompleteMigration();
    expect(r).toKeepGuestIntact();
    expect(r).toCompleteWithin(r.metrics.totalTimeMs!);
    expect(r).toHaveDowntimeBelow(300);
    expect(r).toHaveObservedDowntimeBelow(500);
    expect(r).toHaveGuestPauseBelow(500);
    expect(r).toTransferAtMost(r.metrics.transferredBytes!);
    expect(r).toPutOnWireAtMost(r.metrics.wireBytes! + 1);
    const message = failureOf(() => expect(r).toHaveObservedDowntimeBelow(1));
    expect(message).toMatch(/idle-256 #1 \(mb[0-9a-f]+\): downtime ms \(observed\) \(observedDowntimeMs, from probe\) measured [\d.]+ ms, expected at most 1 ms/);
    expect(failureOf(() => expect(r).toTransferAtMost(1024))).toMatch(/measured [\d.]+ MiB \(\d+ bytes\), expected at most 0\.001 MiB \(1024 bytes\)/);
  });

  test('an unmeasured metric fails and says why', async () => {
    const r = await record();
    const failed = {
      ...r,
      status: 'failed' as const,
      error: { code: 'MB_GUEST', message: 'guest did not boot', phase: 'start-guest' },
      metrics: { ...r.metrics, totalTimeMs: null },
    };
    expect(failureOf(() => expect(failed).toCompleteWithin(5000))).toMatch(/totalTimeMs was not measured \(migration failed: guest did not boot\); threshold 5000 ms/);
    expect(failureOf(() => expect(failed).toCompleteMigration())).toMatch(/migration failed in phase start-guest: guest did not boot/);
  });

  test('toKeepGuestIntact names the problem', async () => {
    const r = await record();
    const damaged = { ...r, integrity: { ...r.integrity, guestAlive: false, restarted: true, memoryIntact: false, problem: 'guest restarted: its agent started again' } };
    expect(failureOf(() => expect(damaged).toKeepGuestIntact())).toMatch(/guest on the destination is not intact: guest restarted/);
    expect(damaged).not.toKeepGuestIntact();
  });

  test('toMeetThresholds checks every configured threshold and lists each one exceeded', async () => {
    const r = await record();
    expect(r).toMeetThresholds({ totalTimeMs: 60000, observedDowntimeMs: 5000 });
    const message = failureOf(() => expect(r).toMeetThresholds({ totalTimeMs: 1, downtimeMs: 1000, guestPauseMs: 1 }));
    expect(message).toMatch(/2 of 3 thresholds exceeded:\n {2}- .*totalTimeMs.*\n {2}- .*guestPauseMs/);
    expect(failureOf(() => expect(r).toMeetThresholds({}))).toMatch(/sets no thresholds/);
    expect(failureOf(() => expect(r).toCompleteWithin(-5))).toMatch(/must be a positive number/);
  });

  test('anything but a record is refused', () => {
    expect(failureOf(() => expect({ status: 'completed' }).toCompleteMigration())).toMatch(/expected a migbench migration record/);
  });
});
