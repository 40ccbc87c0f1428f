// Base against head: per scenario and metric, medians with confidence intervals, the
// change with its interval, a two-sided Mann-Whitney U test (Holm-corrected across every
// comparison made), the minimum detectable effect, and a verdict. A regression needs both
// significance and a practical size; too few samples or different environments are said,
// not guessed around. Reads results files only.
import type { HostEnvironment, MigrationRecord, ResultsFile } from '../generated/results.js';
import { METRIC_ORDER, type MetricName } from '../model/metrics.js';
import { holm, mannWhitneyU, medianConfidenceInterval, minimumDetectableEffectPct, relativeChange } from './significance.js';
import { coefficientOfVariation, median } from './stats.js';

export type Verdict = 'regression' | 'warn' | 'improved' | 'unchanged' | 'not comparable';

/** Practical sizes, % of the base median (all migbench metrics are smaller-is-better). */
export interface ChangeThresholds {
  readonly warnPct: number;
  readonly failPct: number;
}

export interface CompareOptions {
  /** Significance level after Holm correction. @default 0.05 */
  readonly alpha?: number;
  /** Thresholds for a metric of a scenario; the default applies where this returns undefined. */
  readonly thresholds?: (scenario: string, metric: MetricName) => ChangeThresholds | undefined;
  /** Compare even when the environments differ (they are still reported). @default false */
  readonly allowEnvironmentChange?: boolean;
  /** Metrics that get a verdict; together they are the Holm family. @default JUDGED_METRICS */
  readonly metrics?: readonly MetricName[];
}

/**
 * What a change is judged on by default: time, the downtime views and bytes. Each metric
 * added divides α further (Holm), so the default stays small: with n=5 a side even seven
 * metrics are one too many (smallest p 0.0079 × 7 > 0.05), n=6 suffices.
 */
export const JUDGED_METRICS: readonly MetricName[] = ['totalTimeMs', 'downtimeMs', 'stopToResumeMs', 'observedDowntimeMs', 'guestPauseMs', 'transferredBytes', 'wireBytes'];

/** Timing metrics are noisy; byte counts are near-deterministic and get tighter bounds. */
export function defaultThresholds(metric: MetricName): ChangeThresholds {
  return /Bytes$/.test(metric) ? { warnPct: 2, failPct: 5 } : { warnPct: 5, failPct: 10 };
}

export interface SampleSummary {
  readonly n: number;
  readonly median: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  readonly values: readonly number[];
}

export interface MetricComparison {
  readonly suite: string;
  readonly scenario: string;
  readonly metric: MetricName;
  readonly base: SampleSummary;
  readonly head: SampleSummary;
  readonly deltaPct: number | null;
  readonly deltaLowPct: number | null;
  readonly deltaHighPct: number | null;
  readonly p: number | null;
  /** Holm-adjusted across every comparison with a p-value. */
  readonly pAdjusted: number | null;
  /** Smallest change this many samples could detect (80 % power), % of the base median. */
  readonly mdePct: number | null;
  readonly thresholds: ChangeThresholds;
  readonly verdict: Verdict;
  /** Why, in words, for verdicts that need one. */
  readonly reason: string | null;
}

export interface FingerprintDifference {
  readonly field: string;
  readonly base: string;
  readonly head: string;
}

export interface Comparison {
  readonly rows: readonly MetricComparison[];
  /** Host and hypervisor differences between the sides; comparisons across them are flagged. */
  readonly environmentDifferences: readonly FingerprintDifference[];
  /** Config files differ (expected when a change is about configuration). */
  readonly configDiffers: boolean;
  readonly counts: Readonly<Record<Verdict, number>>;
  /** Scenarios measured on one side only. */
  readonly unmatched: readonly { readonly suite: string; readonly scenario: string; readonly side: 'base' | 'head' }[];
  readonly alpha: number;
}

/** The smallest possible two-sided exact p-value for samples of these sizes. */
function smallestP(n1: number, n2: number): number {
  // Every arrangement is equally likely; the most extreme two (one per tail) give the bound.
  let ways = 1;
  for (let i = 1; i <= n1; i++) ways = (ways * (n2 + i)) / i;
  return Math.min(1, 2 / ways);
}

const key = (r: MigrationRecord) => `${r.suite}\u0000${r.scenario}`;

function group(results: ResultsFile): Map<string, MigrationRecord[]> {
  const groups = new Map<string, MigrationRecord[]>();
  for (const r of results.records) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return groups;
}

function summarizeSamples(values: readonly number[]): SampleSummary {
  const ci = medianConfidenceInterval(values);
  return { n: values.length, median: median(values), ciLow: ci.low, ciHigh: ci.high, values: [...values] };
}

const FINGERPRINT: ReadonlyArray<readonly [string, (h: HostEnvironment) => string]> = [
  ['hypervisor', (h) => h.hypervisorVersion],
  ['accelerator', (h) => h.accel],
  ['CPU', (h) => `${h.cpuCount}× ${h.cpuModel}`],
  ['kernel', (h) => h.kernel],
];

/** What differs between the environments that produced each side (both hosts of every record). */
export function environmentDifferences(base: ResultsFile, head: ResultsFile): FingerprintDifference[] {
  const values = (results: ResultsFile, pick: (h: HostEnvironment) => string) =>
    [...new Set(results.records.flatMap((r) => [pick(r.environment.source), pick(r.environment.destination)]))].sort().join(', ');
  const out: FingerprintDifference[] = [];
  for (const [field, pick] of FINGERPRINT) {
    const [b, h] = [values(base, pick), values(head, pick)];
    if (b !== h) out.push({ field, base: b, head: h });
  }
  return out;
}

function decide(
  row: Omit<MetricComparison, 'verdict' | 'reason' | 'pAdjusted'>,
  pAdjusted: number | null,
  alpha: number,
  family: number,
): { verdict: Verdict; reason: string | null } {
  const { base, head, thresholds } = row;
  if (base.n === 0 || head.n === 0) return { verdict: 'not comparable', reason: `measured on ${base.n === 0 ? 'head' : 'base'} only` };
  if (base.median === head.median && base.values.every((v) => v === base.median) && head.values.every((v) => v === head.median)) {
    return { verdict: 'unchanged', reason: 'identical values' };
  }
  const floor = smallestP(base.n, head.n);
  if (floor >= alpha)
    return { verdict: 'not comparable', reason: `too few samples for a test: n=${base.n} vs ${head.n} cannot reach p < ${alpha} (smallest possible p ${floor.toFixed(3)})` };
  if (floor * family >= alpha) {
    return {
      verdict: 'not comparable',
      reason: `too few samples for ${family} comparisons: n=${base.n} vs ${head.n} cannot reach p < ${alpha} after Holm (smallest possible p ${floor.toFixed(4)} × ${family})`,
    };
  }
  if (pAdjusted === null || row.deltaPct === null) return { verdict: 'not comparable', reason: 'no test possible' };
  if (pAdjusted >= alpha) return { verdict: 'unchanged', reason: null };
  if (row.deltaLowPct !== null && row.deltaLowPct >= thresholds.failPct) return { verdict: 'regression', reason: null };
  if (row.deltaPct >= thresholds.warnPct)
    return { verdict: 'warn', reason: row.deltaLowPct !== null ? `significant, but the interval reaches below the ${thresholds.failPct}% fail threshold` : null };
  if (row.deltaPct <= -thresholds.warnPct) return { verdict: 'improved', reason: null };
  return { verdict: 'unchanged', reason: `significant but smaller than the ${thresholds.warnPct}% that matters` };
}

export function compareResults(base: ResultsFile, head: ResultsFile, options: CompareOptions = {}): Comparison {
  const alpha = options.alpha ?? 0.05;
  const environment = environmentDifferences(base, head);
  const baseGroups = group(base);
  const headGroups = group(head);
  const unmatched: Array<Comparison['unmatched'][number]> = [];
  for (const [k, rs] of baseGroups) if (!headGroups.has(k)) unmatched.push({ suite: rs[0]!.suite, scenario: rs[0]!.scenario, side: 'base' });
  for (const [k, rs] of headGroups) if (!baseGroups.has(k)) unmatched.push({ suite: rs[0]!.suite, scenario: rs[0]!.scenario, side: 'head' });

  const partial: Array<Omit<MetricComparison, 'verdict' | 'reason' | 'pAdjusted'>> = [];
  for (const [k, baseRecords] of baseGroups) {
    const headRecords = headGroups.get(k);
    if (!headRecords) continue;
    const { suite, scenario } = baseRecords[0]!;
    for (const metric of METRIC_ORDER.filter((m) => (options.metrics ?? JUDGED_METRICS).includes(m))) {
      // Only completed runs measure a migration; failures are counted by the suites.
      const values = (rs: MigrationRecord[]) =>
        rs
          .filter((r) => r.status === 'completed')
          .map((r) => r.metrics[metric])
          .filter((v): v is number => v !== null);
      const [b, h] = [values(baseRecords), values(headRecords)];
      if (b.length === 0 && h.length === 0) continue;
      const change = b.length && h.length ? relativeChange(b, h) : null;
      const test = b.length && h.length ? mannWhitneyU(b, h) : null;
      partial.push({
        suite,
        scenario,
        metric,
        base: summarizeSamples(b),
        head: summarizeSamples(h),
        deltaPct: change?.deltaPct ?? null,
        deltaLowPct: change?.lowPct ?? null,
        deltaHighPct: change?.highPct ?? null,
        p: test?.p ?? null,
        mdePct: minimumDetectableEffectPct(coefficientOfVariation(b), Math.min(b.length, h.length)),
        thresholds: options.thresholds?.(scenario, metric) ?? defaultThresholds(metric),
      });
    }
  }
  // Identical samples decide themselves and carry no information: not part of the family.
  const tested = partial.map((r) => (r.p !== null && !(r.base.values.length && [...r.base.values, ...r.head.values].every((v) => v === r.base.values[0])) ? r.p : null));
  const adjusted = holm(tested);
  const family = tested.filter((p) => p !== null).length;
  const counts: Record<Verdict, number> = { regression: 0, warn: 0, improved: 0, unchanged: 0, 'not comparable': 0 };
  const rows = partial.map((row, i) => {
    let decided = decide(row, adjusted[i] ?? null, alpha, family);
    if (environment.length && !options.allowEnvironmentChange && decided.verdict !== 'not comparable') {
      decided = { verdict: 'not comparable', reason: `environments differ (${environment.map((d) => d.field).join(', ')})` };
    }
    counts[decided.verdict]++;
    return { ...row, pAdjusted: adjusted[i] ?? null, ...decided };
  });
  return { rows, environmentDifferences: environment, configDiffers: base.config.sha256 !== head.config.sha256, counts, unmatched, alpha };
}

/** 1 when any comparison is a regression: what `migbench compare` exits with. */
export function comparisonExitCode(comparison: Comparison): 0 | 1 {
  return comparison.counts.regression > 0 ? 1 : 0;
}
