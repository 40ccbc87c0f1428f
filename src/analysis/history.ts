// The last runs of a branch, as series: per scenario and metric, each stored run's median
// with its range, and where the scenario's definition or its hosts changed (a step there is
// explained, not a regression). Reads stored runs only; render/history.ts draws them.
import type { MigrationRecord, ResultsFile } from '../generated/results.js';
import { environmentFingerprint } from '../model/fingerprint.js';
import type { MetricName } from '../model/metrics.js';
import type { StoredRun } from '../model/store.js';
import { median } from './stats.js';

/** What the history plots, in order: time, the downtime views, bytes. */
export const HISTORY_METRICS: readonly MetricName[] = ['totalTimeMs', 'downtimeMs', 'observedDowntimeMs', 'guestPauseMs', 'transferredBytes'];

export interface HistoryPoint {
  readonly run: StoredRun;
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** Completed runs of the scenario in this stored run, of all. */
  readonly completed: number;
  readonly total: number;
  /** What changed since the previous point, in words (empty: nothing). */
  readonly changed: readonly string[];
}

export interface ScenarioHistory {
  readonly suite: string;
  readonly scenario: string;
  readonly metrics: ReadonlyArray<{ readonly metric: MetricName; readonly points: readonly HistoryPoint[] }>;
}

export interface History {
  /** Oldest first. */
  readonly runs: readonly StoredRun[];
  readonly scenarios: readonly ScenarioHistory[];
}

/** Series of the given stored runs (oldest first) and their results files, by run id. */
export function buildHistory(runs: readonly StoredRun[], files: ReadonlyMap<string, ResultsFile>): History {
  const keys = [...new Set(runs.flatMap((r) => r.scenarios.map((s) => `${s.suite}\u0000${s.scenario}`)))];
  const scenarios = keys.map((key): ScenarioHistory => {
    const [suite, scenario] = key.split('\u0000') as [string, string];
    const perRun = runs.flatMap((run) => {
      const records = (files.get(run.id)?.records ?? []).filter((r) => r.suite === suite && r.scenario === scenario);
      return records.length ? [{ run, records }] : [];
    });
    return { suite, scenario, metrics: HISTORY_METRICS.map((metric) => ({ metric, points: points(perRun, metric) })) };
  });
  return { runs, scenarios };
}

function points(perRun: ReadonlyArray<{ run: StoredRun; records: readonly MigrationRecord[] }>, metric: MetricName): HistoryPoint[] {
  return perRun.map(({ run, records }, i) => {
    const values = records.filter((r) => r.status === 'completed' && r.metrics[metric] !== null).map((r) => r.metrics[metric]!);
    const previous = perRun[i - 1];
    return {
      run,
      median: median(values),
      min: values.length ? Math.min(...values) : null,
      max: values.length ? Math.max(...values) : null,
      completed: records.filter((r) => r.status === 'completed').length,
      total: records.length,
      changed: previous ? changes(previous.records, records) : [],
    };
  });
}

/** Why a step between two runs of a scenario is no regression: its definition or its hosts changed. */
function changes(before: readonly MigrationRecord[], after: readonly MigrationRecord[]): string[] {
  const out: string[] = [];
  if (before[0]!.scenarioFingerprint !== after[0]!.scenarioFingerprint) out.push('scenario changed');
  if (environmentFingerprint(before) !== environmentFingerprint(after)) out.push('environment changed');
  return out;
}
