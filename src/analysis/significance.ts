// The statistics that gate a pull request in `migbench compare`: base vs head samples of one
// metric (all of ours are smaller-is-better), following ../shared/reference/ci-benchmarking.md
// section 5. Pure: inputs are never mutated; an undefined result is null rather than NaN.
//
// Written here rather than taken from a library: no maintained, typed npm package does a
// Mann-Whitney U test with exact p-values and tie correction, let alone Hodges-Lehmann
// intervals. simple-statistics' wilcoxonRankSum returns the rank sum only (no p-value);
// stdlib has no two-sample rank test (only Wilcoxon signed-rank); mann-whitney-utest and
// its fork return U values and a z-score only (no p-value, no exact distribution), with a
// significance check their own docs call invalid; jstat has none. Everything below is
// checked against scipy 1.17 in test/significance.test.ts.
import { median, midpoint } from './stats.js';

/** Both samples at most this size: exact null distribution of U (cached per pair of sizes). */
const EXACT_MAX_N = 50;

function assertFinite(xs: readonly number[], what: string): void {
  for (const x of xs) {
    if (!Number.isFinite(x)) throw new RangeError(`${what} must be finite numbers, got ${x}`);
  }
}

function assertConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be between 0 and 1 (exclusive), got ${confidence}`);
}

// ── Normal distribution ────────────────────────────────────────────────────────────────

/** erfc(x) for x ≥ 0 to near double precision: a positive series below 2, a continued fraction above. */
function erfcNonNegative(x: number): number {
  if (x < 2) {
    // erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)); all terms positive.
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), by modified Lentz.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** P(Z > z) for a standard normal Z. */
function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z === Infinity) return 0;
  if (z === -Infinity) return 1;
  const half = 0.5 * erfcNonNegative(Math.abs(z) / Math.SQRT2);
  return z >= 0 ? half : 1 - half;
}

/** The standard normal quantile, Φ⁻¹(p) for 0 < p < 1 (Acklam's approximation, one Halley step). */
function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  // One Halley refinement against the accurate CDF brings it to near double precision.
  const e = 1 - normalSf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

// ── Exact null distribution of U ───────────────────────────────────────────────────────

const exactCdfCache = new Map<string, Float64Array>();

/**
 * P(U ≤ u) for u = 0 … m·n under the null hypothesis with no ties, where U counts the pairs
 * in which the first sample's value is larger. Symmetric in (m, n), cached per pair. Built
 * on probabilities rather than counts (counts pass 2⁵³ long before 50 vs 50): the largest
 * of the i + j values belongs to the first sample with probability i/(i+j), adding j to U,
 * so P_{i,j}(u) = i/(i+j)·P_{i−1,j}(u−j) + j/(i+j)·P_{i,j−1}(u). O(m²n²/4) once per pair.
 */
function exactUCdf(m: number, n: number): Float64Array {
  if (m > n) [m, n] = [n, m];
  const key = `${m},${n}`;
  const cached = exactCdfCache.get(key);
  if (cached) return cached;
  const one = Float64Array.of(1);
  let prev: Float64Array[] = Array.from({ length: n + 1 }, () => one); // i = 0: U = 0 surely
  for (let i = 1; i <= m; i++) {
    const cur: Float64Array[] = [one];
    for (let j = 1; j <= n; j++) {
      const pmf = new Float64Array(i * j + 1);
      const fromFirst = prev[j]!;
      const fromSecond = cur[j - 1]!;
      const wFirst = i / (i + j);
      const wSecond = j / (i + j);
      for (let u = 0; u < fromFirst.length; u++) pmf[u + j] = wFirst * fromFirst[u]!;
      for (let u = 0; u < fromSecond.length; u++) pmf[u] = pmf[u]! + wSecond * fromSecond[u]!;
      cur.push(pmf);
    }
    prev = cur;
  }
  const pmf = prev[n]!;
  const cdf = new Float64Array(pmf.length);
  let acc = 0;
  for (let u = 0; u < pmf.length; u++) {
    acc += pmf[u]!;
    cdf[u] = Math.min(acc, 1);
  }
  exactCdfCache.set(key, cdf);
  return cdf;
}

/**
 * The 1-based rank k of the pairwise difference that bounds a two-sided interval at the given
 * confidence: the largest k with P(U ≤ k − 1) ≤ α/2 (so coverage ≥ confidence, as R's
 * wilcox.test(conf.int = TRUE)). Exact up to 50 per side, normal approximation beyond. null
 * when even the extreme differences give less than the confidence.
 */
function shiftIntervalRank(m: number, n: number, confidence: number): number | null {
  const halfAlpha = (1 - confidence) / 2;
  if (m <= EXACT_MAX_N && n <= EXACT_MAX_N) {
    const cdf = exactUCdf(m, n);
    const limit = halfAlpha * (1 + 1e-9); // an exact tie with α/2 counts as within it
    let c = -1;
    while (c + 1 < cdf.length && cdf[c + 1]! <= limit) c++;
    return c < 0 ? null : c + 1;
  }
  // P(U ≤ k − 1) ≈ Φ((k − 1 + ½ − mn/2)/σ) ≤ α/2.
  const sigma = Math.sqrt((m * n * (m + n + 1)) / 12);
  const k = Math.floor((m * n) / 2 + 0.5 + normalQuantile(halfAlpha) * sigma);
  return k < 1 ? null : k;
}

// ── Mann-Whitney U ─────────────────────────────────────────────────────────────────────

export interface MannWhitneyResult {
  /** U for the first sample: pairs with a_i > b_j, plus ½ per tie. 0 … n_a·n_b. */
  readonly u: number;
  /** Two-sided p-value; null when either sample is empty. */
  readonly p: number | null;
  /** Whether p comes from the exact null distribution (no ties, both samples ≤ 50). */
  readonly exact: boolean;
}

/**
 * Two-sided Mann-Whitney U test (Wilcoxon rank-sum). Exact p-value when there are no ties
 * and both samples have at most 50 values; otherwise the normal approximation with tie and
 * continuity correction, as scipy.stats.mannwhitneyu(method='asymptotic'). The smallest p
 * possible is 2/C(n_a+n_b, n_a): 0.1 at 3 vs 3, so no test at that size reaches 0.05.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  assertFinite(a, 'samples');
  assertFinite(b, 'samples');
  const m = a.length;
  const n = b.length;
  if (m === 0 || n === 0) return { u: 0, p: null, exact: false };

  // Midranks of the pooled values; U_a = R_a − m(m+1)/2.
  const pooled = [...a.map((v) => ({ v, first: true })), ...b.map((v) => ({ v, first: false }))].sort((x, y) => x.v - y.v);
  const total = m + n;
  let rankSumA = 0;
  let tieTerm = 0; // Σ (t³ − t) over groups of tied values
  for (let i = 0; i < total;) {
    let j = i + 1;
    while (j < total && pooled[j]!.v === pooled[i]!.v) j++;
    const t = j - i;
    const midrank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (pooled[k]!.first) rankSumA += midrank;
    if (t > 1) tieTerm += t ** 3 - t;
    i = j;
  }
  const u = rankSumA - (m * (m + 1)) / 2;
  const mn = m * n;

  if (tieTerm === 0 && m <= EXACT_MAX_N && n <= EXACT_MAX_N) {
    const cdf = exactUCdf(m, n);
    const lowerTail = cdf[Math.round(Math.min(u, mn - u))]!;
    return { u, p: Math.min(1, 2 * lowerTail), exact: true };
  }

  const sigma = Math.sqrt((mn / 12) * (total + 1 - tieTerm / (total * (total - 1))));
  // Every value tied: no evidence either way (scipy gives 1 too).
  if (!(sigma > 0)) return { u, p: 1, exact: false };
  const z = (Math.max(u, mn - u) - mn / 2 - 0.5) / sigma;
  return { u, p: Math.min(1, Math.max(0, 2 * normalSf(z))), exact: false };
}

// ── Hodges-Lehmann shift ───────────────────────────────────────────────────────────────

export interface ShiftEstimate {
  /** Median of all pairwise differences b_j − a_i. */
  readonly shift: number;
  /** Interval bounds; null when the samples are too small for the confidence. */
  readonly low: number | null;
  readonly high: number | null;
}

/** The value that would sit at index `k` if `xs` were sorted (quickselect; reorders xs). */
function nth(xs: Float64Array, k: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (xs[i]! < pivot) i++;
      while (xs[j]! > pivot) j--;
      if (i <= j) {
        const t = xs[i]!;
        xs[i] = xs[j]!;
        xs[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return xs[k]!;
  }
  return xs[k]!;
}

/**
 * Hodges-Lehmann estimate of how far b is shifted from a (positive: b larger), with the
 * distribution-free interval from inverting the Mann-Whitney test: the k-th smallest and
 * k-th largest of the n_a·n_b pairwise differences, k from the exact U distribution (normal
 * approximation beyond 50 per side). Throws on an empty sample: there is no shift to report.
 */
export function hodgesLehmannShift(a: readonly number[], b: readonly number[], confidence = 0.95): ShiftEstimate {
  assertFinite(a, 'samples');
  assertFinite(b, 'samples');
  assertConfidence(confidence);
  if (a.length === 0 || b.length === 0) throw new RangeError('hodgesLehmannShift needs two non-empty samples');
  const diffs = new Float64Array(a.length * b.length);
  let i = 0;
  for (const y of b) for (const x of a) diffs[i++] = y - x;
  // Three order statistics of n_a·n_b differences: selection, not a full sort (comparing
  // 1,000 scenarios × 30 samples spent most of its time sorting).
  const k = shiftIntervalRank(a.length, b.length, confidence);
  const mid = Math.floor(diffs.length / 2);
  // midpoint: two differences near the double range's edge summed to Infinity (property tests).
  const shift = diffs.length % 2 === 1 ? nth(diffs, mid) : midpoint(nth(diffs, mid - 1), nth(diffs, mid));
  return {
    shift,
    low: k === null ? null : nth(diffs, k - 1),
    high: k === null ? null : nth(diffs, diffs.length - k),
  };
}

// ── Relative change ────────────────────────────────────────────────────────────────────

export interface RelativeChange {
  /** head / base as a ratio (1.072 for +7.2 %). */
  readonly ratio: number | null;
  /** (ratio − 1) · 100. */
  readonly deltaPct: number | null;
  readonly lowPct: number | null;
  readonly highPct: number | null;
}

const NO_CHANGE: RelativeChange = { ratio: null, deltaPct: null, lowPct: null, highPct: null };

/**
 * The effect of head against base as a percentage: the Hodges-Lehmann shift of log(values),
 * exponentiated (so "+7.2 % [+2.1, +12.5]"), with its interval. When some value is ≤ 0 the
 * logarithm is undefined, so it falls back to the shift of the raw values over |base median|
 * (all null when that median is 0). All null when either sample is empty.
 */
export function relativeChange(base: readonly number[], head: readonly number[], confidence = 0.95): RelativeChange {
  assertFinite(base, 'samples');
  assertFinite(head, 'samples');
  assertConfidence(confidence);
  if (base.length === 0 || head.length === 0) return NO_CHANGE;
  const pct = (r: number | null): number | null => (r === null ? null : (r - 1) * 100);
  if (base.every((v) => v > 0) && head.every((v) => v > 0)) {
    const hl = hodgesLehmannShift(base.map(Math.log), head.map(Math.log), confidence);
    const ratio = Math.exp(hl.shift);
    const low = hl.low === null ? null : Math.exp(hl.low);
    const high = hl.high === null ? null : Math.exp(hl.high);
    return { ratio, deltaPct: pct(ratio), lowPct: pct(low), highPct: pct(high) };
  }
  const scale = Math.abs(median(base)!);
  if (scale === 0) return NO_CHANGE;
  const hl = hodgesLehmannShift(base, head, confidence);
  const asPct = (d: number | null): number | null => (d === null ? null : (d / scale) * 100);
  return { ratio: 1 + hl.shift / scale, deltaPct: asPct(hl.shift), lowPct: asPct(hl.low), highPct: asPct(hl.high) };
}

// ── Median interval ────────────────────────────────────────────────────────────────────

/**
 * Distribution-free interval for the median from order statistics: [x_(k), x_(n−k+1)] with
 * the largest k such that P(Binomial(n, ½) ≤ k − 1) ≤ α/2. null when n is too small for the
 * confidence (n < 6 at 95 %: even [min, max] covers only 1 − 2/2ⁿ).
 */
export function medianConfidenceInterval(xs: readonly number[], confidence = 0.95): { low: number | null; high: number | null } {
  assertFinite(xs, 'values');
  assertConfidence(confidence);
  const n = xs.length;
  const halfAlpha = (1 - confidence) / 2;
  const limit = halfAlpha * (1 + 1e-9);
  // Binomial(n, ½) CDF in log space so that large n does not underflow 2⁻ⁿ.
  let logPmf = -n * Math.LN2; // log P(B = 0)
  let cdf = Math.exp(logPmf);
  let k = 0; // the largest k with P(B ≤ k − 1) ≤ α/2 found so far (0: none)
  for (let c = 0; c < n && cdf <= limit; c++) {
    k = c + 1;
    logPmf += Math.log((n - c) / (c + 1));
    cdf += Math.exp(logPmf);
  }
  if (k === 0 || n === 0) return { low: null, high: null };
  const s = Float64Array.from(xs).sort();
  return { low: s[k - 1]!, high: s[n - k]! };
}

// ── Multiple comparisons ───────────────────────────────────────────────────────────────

/**
 * Holm-Bonferroni adjusted p-values, in the input's order: the i-th smallest of m p-values
 * becomes max over j ≤ i of (m − j + 1)·p_(j), capped at 1. Nulls stay in place and are not
 * counted in m.
 */
export function holm(pValues: ReadonlyArray<number | null>): Array<number | null> {
  const present: Array<{ p: number; index: number }> = [];
  pValues.forEach((p, index) => {
    if (p === null) return;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must be between 0 and 1, got ${p}`);
    present.push({ p, index });
  });
  present.sort((x, y) => x.p - y.p || x.index - y.index);
  const out: Array<number | null> = pValues.map(() => null);
  const m = present.length;
  let running = 0;
  present.forEach(({ p, index }, j) => {
    running = Math.max(running, Math.min(1, (m - j) * p));
    out[index] = running;
  });
  return out;
}

// ── Minimum detectable effect ──────────────────────────────────────────────────────────

/**
 * The smallest change, in % of the mean, that n samples per side detect with 80 % power at
 * α = 0.05 two-sided: MDE ≈ 2.80·CV·√(2/n)·100 (ci-benchmarking.md §5; 2.80 = z₀.₉₇₅ + z₀.₈).
 * CV is a ratio (0.05 for 5 %). The U test needs about 5 % more samples. null when cv is
 * null or n < 2.
 */
export function minimumDetectableEffectPct(cv: number | null, n: number): number | null {
  if (cv === null || !Number.isFinite(cv) || !(n >= 2)) return null;
  const mde = 2.8 * Math.abs(cv) * Math.sqrt(2 / n) * 100;
  // A CV above ~3e305 overflows to Infinity: no effect is detectable, like a CV of Infinity
  // (found by test/properties/compare.prop.test.ts).
  return Number.isFinite(mde) ? mde : null;
}

// ── Bootstrap ──────────────────────────────────────────────────────────────────────────

export interface BootstrapOptions {
  /** Resamples (B); the reference asks for at least 5,000. */
  readonly resamples?: number;
  readonly confidence?: number;
  /** Seed of the PRNG: the same inputs and seed give the same interval. */
  readonly seed?: number;
}

/** mulberry32: a small, fast 32-bit PRNG; plenty for resampling indices. Values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Median of one resample (with replacement) of sorted: draws n indices, counts how often each
 * was drawn (counts is scratch of length n) and walks the counts to the middle position(s),
 * so a resample costs O(n) with no sorting.
 */
function resampledMedian(sorted: Float64Array, counts: Int32Array, random: () => number): number {
  const n = sorted.length;
  counts.fill(0);
  for (let i = 0; i < n; i++) counts[Math.floor(random() * n)]!++;
  const upper = n >> 1; // 0-based position of the (upper) middle value
  const lower = (n - 1) >> 1;
  let seen = 0;
  let low = Number.NaN;
  for (let i = 0; i < n; i++) {
    seen += counts[i]!;
    if (Number.isNaN(low) && seen > lower) low = sorted[i]!;
    if (seen > upper) return (low + sorted[i]!) / 2;
  }
  return low; // not reached: the counts add up to n
}

/**
 * Percentile bootstrap interval of median(head)/median(base), resampling each side
 * separately (as Criterion does), with a seeded PRNG so that it is reproducible. Percentiles
 * interpolate linearly between order statistics. null bounds when either sample is empty or
 * a resampled base median is ≤ 0 (the ratio means nothing there).
 */
export function bootstrapRatioCI(base: readonly number[], head: readonly number[], options: BootstrapOptions = {}): { low: number | null; high: number | null } {
  const { resamples = 5000, confidence = 0.95, seed = 1 } = options;
  assertFinite(base, 'samples');
  assertFinite(head, 'samples');
  assertConfidence(confidence);
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (base.length === 0 || head.length === 0) return { low: null, high: null };
  const random = mulberry32(seed);
  const baseSorted = Float64Array.from(base).sort();
  const headSorted = Float64Array.from(head).sort();
  const baseCounts = new Int32Array(base.length);
  const headCounts = new Int32Array(head.length);
  const ratios = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const denominator = resampledMedian(baseSorted, baseCounts, random);
    if (!(denominator > 0)) return { low: null, high: null };
    ratios[r] = resampledMedian(headSorted, headCounts, random) / denominator;
    // A base median near 0 (5e-324) makes the ratio infinite, which means nothing either; the
    // percentiles interpolated NaN from it (found by test/properties/compare.prop.test.ts).
    if (!Number.isFinite(ratios[r]!)) return { low: null, high: null };
  }
  ratios.sort();
  const quantile = (q: number): number => {
    const pos = q * (resamples - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, resamples - 1);
    return ratios[lo]! + (pos - lo) * (ratios[hi]! - ratios[lo]!);
  };
  const alpha = 1 - confidence;
  return { low: quantile(alpha / 2), high: quantile(1 - alpha / 2) };
}
