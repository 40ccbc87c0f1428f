// Per-scenario summaries over repeated runs (--repeat N), rendered from a results file
// alone like the main table. Only completed runs feed the statistics; runs that failed
// or were cancelled are counted and shown, never averaged away.
import { markdownTable } from 'markdown-table';
import { markdownText } from './escape.js';
import type { ResultsFile } from '../generated/results.js';
import { formatMetricValue, METRIC_ORDER, METRICS, type MetricName } from '../model/metrics.js';
import { summarize, type Summary } from '../analysis/stats.js';

export interface ScenarioSummary {
  readonly suite: string;
  readonly scenario: string;
  /** Every record of the scenario, whatever its status. */
  readonly runs: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Over the non-null values of completed records; n is how many there were. */
  readonly metrics: Readonly<Record<MetricName, Summary>>;
}

/** One summary per (suite, scenario), in the order each first appears in the file. */
export function scenarioSummaries(results: ResultsFile): ScenarioSummary[] {
  const groups = new Map<string, ResultsFile['records']>();
  for (const r of results.records) {
    // JSON keeps the pair unambiguous whatever characters the names hold.
    const key = JSON.stringify([r.suite, r.scenario]);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((records) => {
    const done = records.filter((r) => r.status === 'completed');
    const metrics = Object.fromEntries(METRIC_ORDER.map((m) => [m, summarize(done.map((r) => r.metrics[m]).filter((v): v is number => v !== null))])) as Record<
      MetricName,
      Summary
    >;
    return {
      suite: records[0]!.suite,
      scenario: records[0]!.scenario,
      runs: records.length,
      completed: done.length,
      failed: records.filter((r) => r.status === 'failed').length,
      cancelled: records.filter((r) => r.status === 'cancelled').length,
      metrics,
    };
  });
}

/** True when some scenario was measured more than once, i.e. a summary says something. */
export function hasRepeatedScenarios(results: ResultsFile): boolean {
  return scenarioSummaries(results).some((s) => s.runs > 1);
}

function cvCell(cv: number | null): string {
  return cv === null ? '—' : `${(cv * 100).toFixed(1)}%`;
}

function incompleteCell(s: ScenarioSummary): string {
  const why = [s.failed > 0 && `${s.failed} failed`, s.cancelled > 0 && `${s.cancelled} cancelled`].filter(Boolean).join(', ');
  return `**${s.completed} of ${s.runs} runs completed** (${why})`;
}

/**
 * One row per scenario and measured metric (n > 0), values formatted as in the main table,
 * CV as a percentage. A scenario with runs that did not complete gets a bold first row
 * saying how many did, so a summary over fewer runs than asked for is never mistaken.
 */
export function summaryTable(results: ResultsFile): string {
  const rows: string[][] = [];
  for (const s of scenarioSummaries(results)) {
    if (s.completed < s.runs) rows.push([markdownText(s.suite), markdownText(s.scenario), incompleteCell(s), '', '', '', '', '', '']);
    for (const m of METRIC_ORDER) {
      const x = s.metrics[m];
      if (x.n === 0) continue;
      rows.push([
        markdownText(s.suite),
        markdownText(s.scenario),
        METRICS[m].label,
        String(x.n),
        formatMetricValue(m, x.median),
        formatMetricValue(m, x.p95),
        formatMetricValue(m, x.min),
        formatMetricValue(m, x.max),
        cvCell(x.cv),
      ]);
    }
  }
  if (rows.length === 0) return '_Nothing measured to summarize._\n';
  const header = ['suite', 'scenario', 'metric', 'n', 'median', 'p95', 'min', 'max', 'CV'];
  return `${markdownTable([header, ...rows], { align: ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'] })}\n`;
}
