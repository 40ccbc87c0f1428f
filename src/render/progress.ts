// One line per finished migration while a run goes on, for logs that are read live (the
// Action's, a terminal's): where the run is, what this migration measured, what is left.
import type { MigrationRecord } from '../generated/results.js';

export interface ProgressState {
  /** Migrations this run plans (every scenario × its repetitions, × 2 in an A/B run). */
  readonly planned: number;
  /** Finished so far, this one included. */
  readonly done: number;
  /** Wall time since the run's first migration started. */
  readonly elapsedMs: number;
}

function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${Math.round(value)} ms`;
}

function duration(msLeft: number): string {
  const s = Math.round(msLeft / 1000);
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 90 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** `[7/40] idle-256 base #4: total 731 ms, observed 91 ms, ETA 3 min`; a failed one says so and why. */
export function progressLine(record: MigrationRecord, testName: string, state: ProgressState): string {
  const run = /#\d+$/.exec(testName)?.[0] ?? '';
  const who = [record.scenario, record.variant, run].filter(Boolean).join(' ');
  const left = state.planned - state.done;
  const eta = left > 0 && state.done > 0 ? `, ETA ${duration((state.elapsedMs / state.done) * left)}` : '';
  const what =
    record.status === 'completed'
      ? `total ${ms(record.metrics.totalTimeMs)}, observed ${ms(record.metrics.observedDowntimeMs)}`
      : `${record.status}${record.error ? ` (${record.error.code}: ${record.error.message.split('\n')[0]})` : ''}`;
  return `[${state.done}/${state.planned}] ${who}: ${what}${eta}`;
}
