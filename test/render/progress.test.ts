import { describe, expect, test } from 'vitest';
import { progressBar, progressLine } from '../../src/render/progress.js';
import type { MigrationRecord } from '../../src/generated/results.js';

function record(fields: Omit<Partial<MigrationRecord>, 'metrics'> & { metrics?: Partial<MigrationRecord['metrics']> }): MigrationRecord {
  return {
    scenario: 'idle-256',
    status: 'completed',
    error: null,
    ...fields,
    metrics: { totalTimeMs: 731.4, observedDowntimeMs: 90.6, ...fields.metrics },
  } as unknown as MigrationRecord;
}

describe(progressLine, () => {
  test('where the run is, what this migration measured, and the time left at the mean pace so far', () => {
    expect(progressLine(record({ variant: 'base' }), 'a/b > memory-migration > idle-256 #4', { planned: 40, done: 7, elapsedMs: 7 * 6000 })).toBe(
      '[7/40] idle-256 base #4: total 731 ms, observed 91 ms, ETA 3 min',
    );
  });

  test('no ETA on the last one; seconds, minutes and hours as they read best', () => {
    expect(progressLine(record({}), 'memory-migration > idle-256 #2', { planned: 2, done: 2, elapsedMs: 20_000 })).toBe('[2/2] idle-256 #2: total 731 ms, observed 91 ms');
    expect(progressLine(record({}), 'x #1', { planned: 3, done: 1, elapsedMs: 20_000 })).toMatch(/ETA 40 s$/);
    expect(progressLine(record({}), 'x #1', { planned: 2, done: 1, elapsedMs: 20_000 })).toMatch(/ETA 20 s$/);
    expect(progressLine(record({}), 'x #1', { planned: 200, done: 1, elapsedMs: 60_000 })).toMatch(/ETA 3 h 19 min$/);
  });

  test('a failed migration says so and why, on one line; a metric not measured is a dash', () => {
    const failed = record({ status: 'failed', error: { code: 'MB_SSH_LOST', message: 'lab dst: connection lost\nmore detail' } as MigrationRecord['error'] });
    expect(progressLine(failed, 's > idle-256 #1', { planned: 4, done: 1, elapsedMs: 1000 })).toBe('[1/4] idle-256 #1: failed (MB_SSH_LOST: lab dst: connection lost), ETA 3 s');
    expect(progressLine(record({ metrics: { observedDowntimeMs: null } }), 'x #1', { planned: 1, done: 1, elapsedMs: 1 })).toBe('[1/1] idle-256 #1: total 731 ms, observed —');
  });
});

describe(progressBar, () => {
  const state = { planned: 40, done: 7, elapsedMs: 7 * 6000 };

  test('the running migration: its number, test, phase, a bar to the eighth of a cell, the share done and the ETA', () => {
    expect(progressBar({ phase: 'migrate', percent: 48.1 }, 'suite > idle-256 #4', state, 120)).toBe('[8/40] idle-256 #4 migrate ▕█████████▋          ▏ 48%, ETA 3 min');
    expect(progressBar({ phase: 'migrate', percent: 0 }, 'idle-256 #4', state, 120)).toContain('▕                    ▏ 0%');
    expect(progressBar({ phase: 'migrate', percent: 100 }, 'idle-256 #4', state, 120)).toContain('▕████████████████████▏ 100%');
  });

  test('a phase without a share done shows the phase alone; the line never wraps the terminal', () => {
    expect(progressBar({ phase: 'launchGuest', percent: null }, 'idle-256 #4', { planned: 2, done: 0, elapsedMs: 0 }, 120)).toBe('[1/2] idle-256 #4 launchGuest');
    const cut = progressBar({ phase: 'migrate', percent: 50 }, 'idle-256 #4', state, 30);
    expect(cut).toHaveLength(29);
    expect(cut.endsWith('…')).toBe(true);
  });
});
