// One line per finished migration while a run goes on, for logs that are read live (the
// Action's, a terminal's): where the run is, what this migration measured, what is left;
// and, on a terminal, a bar for the migration running now.
import type { MigrationRecord } from '../generated/results.js';
import type { LiveProgress } from '../model/progress.js';

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

function eta(state: ProgressState): string {
  const left = state.planned - state.done;
  return left > 0 && state.done > 0 ? `, ETA ${duration((state.elapsedMs / state.done) * left)}` : '';
}

/** `[7/40] idle-256 base #4: total 731 ms, observed 91 ms, ETA 3 min`; a failed one says so and why. */
export function progressLine(record: MigrationRecord, testName: string, state: ProgressState): string {
  const run = /#\d+$/.exec(testName)?.[0] ?? '';
  const who = [record.scenario, record.variant, run].filter(Boolean).join(' ');
  const what =
    record.status === 'completed'
      ? `total ${ms(record.metrics.totalTimeMs)}, observed ${ms(record.metrics.observedDowntimeMs)}`
      : `${record.status}${record.error ? ` (${record.error.code}: ${record.error.message.split('\n')[0]})` : ''}`;
  return `[${state.done}/${state.planned}] ${who}: ${what}${eta(state)}`;
}

const BAR_CELLS = 20;
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of BAR_CELLS cells, filled to the nearest eighth of a cell. */
function bar(percent: number): string {
  const eighths = Math.round((percent / 100) * BAR_CELLS * 8);
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8]!;
  return `▕${'█'.repeat(full)}${part}${' '.repeat(BAR_CELLS - full - (part ? 1 : 0))}▏`;
}

/**
 * The terminal's status line for the migration running now: `[8/40] idle-256 #4 migrate
 * ▕█████████▌          ▏ 48%, ETA 3 min`; without a share done (a phase other than the
 * copy, or a hypervisor that reports none) the phase alone. Cut to the terminal's width.
 */
export function progressBar(live: LiveProgress, testName: string, state: ProgressState, columns: number): string {
  const head = `[${state.done + 1}/${state.planned}] ${testName.split(' > ').at(-1)} ${live.phase}`;
  const share = live.percent === null ? '' : ` ${bar(live.percent)} ${Math.floor(live.percent)}%`;
  const line = `${head}${share}${eta(state)}`;
  return line.length > columns - 1 ? `${line.slice(0, Math.max(0, columns - 2))}…` : line;
}
