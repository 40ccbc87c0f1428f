// Descriptive statistics for repeated runs (benchstat/asv style). Pure: inputs are never
// mutated; an undefined statistic is null rather than NaN, so it renders as "not measured".

/** What summarize() reports for one set of values; null where the statistic is undefined. */
export interface Summary {
  readonly n: number;
  readonly median: number | null;
  /** 95th percentile, nearest-rank (see percentile()). */
  readonly p95: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly mean: number | null;
  /** Coefficient of variation, a ratio (0.05 is 5 %). */
  readonly cv: number | null;
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/**
 * (a + b) / 2, without overflowing: two values above half the double range sum to
 * Infinity (found by test/properties/compare.prop.test.ts: the median of [9e307, 9e307] was
 * Infinity). Halved first only then, so ordinary medians keep their last bit.
 */
export function midpoint(a: number, b: number): number {
  const sum = a + b;
  return Number.isFinite(sum) ? sum / 2 : a / 2 + b / 2;
}

/** The middle value; for an even count, the mean of the two middle values. null when empty. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = sorted(xs);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : midpoint(s[mid - 1]!, s[mid]!);
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) by the nearest-rank method: the smallest value with
 * at least p % of the values at or below it, i.e. sorted[ceil(p/100 · n) − 1] (p = 0 gives
 * the minimum). Always one of the measured values, never interpolated; with few runs it
 * is the maximum (p95 of anything under 20 values is the max). null when empty.
 */
export function percentile(xs: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be between 0 and 100, got ${p}`);
  if (xs.length === 0) return null;
  const s = sorted(xs);
  // p·n first: (p/100)·n rounds up wrongly, e.g. 0.07 · 100 = 7.000000000000001.
  const rank = Math.max(1, Math.ceil((p * s.length) / 100));
  return s[rank - 1]!;
}

export function min(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => (b < a ? b : a));
}

export function max(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => (b > a ? b : a));
}

export function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (divides by n − 1); null for fewer than two values. */
export function sampleStdDev(xs: readonly number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs)!;
  // Two passes (deviations from the mean) rather than Σx² − n·m², which cancels badly.
  const ss = xs.reduce((acc, x) => acc + (x - m) ** 2, 0);
  if (Number.isFinite(ss)) return Math.sqrt(ss / (xs.length - 1));
  // Deviations above ~1.3e154 square to Infinity: scale them down first (found by
  // test/properties/compare.prop.test.ts: [1.5e154, 0, 0, 0, 0, 0] had a CV of Infinity).
  const scale = xs.reduce((acc, x) => Math.max(acc, Math.abs(x - m)), 0);
  return scale * Math.sqrt(xs.reduce((acc, x) => acc + ((x - m) / scale) ** 2, 0) / (xs.length - 1));
}

/** sampleStdDev / mean; null for fewer than two values or a zero mean. */
export function coefficientOfVariation(xs: readonly number[]): number | null {
  const sd = sampleStdDev(xs);
  const m = mean(xs);
  if (sd === null || m === null || m === 0) return null;
  return sd / m;
}

export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    median: median(xs),
    p95: percentile(xs, 95),
    min: min(xs),
    max: max(xs),
    mean: mean(xs),
    cv: coefficientOfVariation(xs),
  };
}
