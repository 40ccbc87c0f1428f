// Results in the formats other benchmarking tools read: Bencher Metric Format (BMF) and
// github-action-benchmark's customSmallerIsBetter. One benchmark per suite/scenario,
// one measure per metric, the median over completed runs with min and max as bounds.
import type { ResultsFile } from '../generated/results.js';
import { METRIC_ORDER, METRICS, type MetricName } from '../model/metrics.js';
import { scenarioSummaries } from './summary.js';

const benchmarkName = (suite: string, scenario: string) => `${suite}/${scenario}`;
/** Measure slugs as Bencher wants them: lower-case, dashes. */
export const measureSlug = (metric: MetricName) => metric.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export type BencherMetricFormat = Record<string, Record<string, { value: number; lower_value?: number; upper_value?: number }>>;

export function toBencherMetricFormat(results: ResultsFile): BencherMetricFormat {
  const out: BencherMetricFormat = {};
  for (const s of scenarioSummaries(results)) {
    const measures: BencherMetricFormat[string] = {};
    for (const metric of METRIC_ORDER) {
      const m = s.metrics[metric];
      if (m.median === null) continue;
      measures[measureSlug(metric)] = { value: m.median, ...(m.min !== null && { lower_value: m.min }), ...(m.max !== null && { upper_value: m.max }) };
    }
    if (Object.keys(measures).length) out[benchmarkName(s.suite, s.scenario)] = measures;
  }
  return out;
}

export interface GabEntry {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
  readonly range?: string;
  readonly extra?: string;
}

const UNIT: Record<string, string> = { ms: 'ms', bytes: 'bytes', count: 'count', 'pages/s': 'pages/s' };

/** github-action-benchmark `tool: customSmallerIsBetter` input. */
export function toGithubActionBenchmark(results: ResultsFile): GabEntry[] {
  const out: GabEntry[] = [];
  for (const s of scenarioSummaries(results)) {
    for (const metric of METRIC_ORDER) {
      const m = s.metrics[metric];
      if (m.median === null) continue;
      out.push({
        name: `${benchmarkName(s.suite, s.scenario)} ${METRICS[metric].label}`,
        unit: UNIT[METRICS[metric].unit] ?? METRICS[metric].unit,
        value: m.median,
        ...(m.min !== null && m.max !== null && m.n > 1 && { range: `${m.min} – ${m.max}` }),
        extra: `median of ${m.n} run${m.n === 1 ? '' : 's'} (${s.completed} of ${s.runs} completed)`,
      });
    }
  }
  return out;
}
