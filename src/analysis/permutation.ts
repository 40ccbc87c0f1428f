// The gate's multiple-comparison procedure: Westfall & Young's step-down minP over every
// judged metric of every scenario, by permuting whole runs (gate-statistics.md §2.2).
//
// Why not Holm: Holm charges every one of the 4 scenarios × 7 metrics = 28 comparisons as if
// they were unrelated, and the smallest exact p of 6 vs 6 runs (0.0022 two-sided) times 28 is
// above 0.05, so a head 50 % slower in every run could never be called a regression. The
// metrics of one migration move together (a slower copy is a longer total time, more bytes,
// more iterations); permuting runs as whole rows keeps that, and the adjustment shrinks
// toward one test per scenario as the metrics agree. Scenarios are separate samples, so the
// null distribution of the minimum over all of them is 1 − Π(1 − F_s), each F_s enumerated
// exactly (all C(n_base + n_head, n_head) labelings up to EXACT_LIMIT, else a seeded random
// subset with the observed labeling counted, so no p is 0).
//
// Tests are one-sided, in the direction of a regression (every migbench metric is
// smaller-is-better): the gate asks "did head get worse", which halves every floor.
// Improvements are reported from their intervals, not tested.
import { mulberry32 } from './significance.js';

/** A scenario's completed runs: one row per run, one value per judged metric. */
export interface RunRows {
  readonly base: ReadonlyArray<readonly number[]>;
  readonly head: ReadonlyArray<readonly number[]>;
}

export interface StepDownResult {
  /** [scenario][metric]: the one-sided permutation p of head being larger. */
  readonly raw: number[][];
  /** [scenario][metric]: adjusted for every metric of every scenario (strong FWER control). */
  readonly adjusted: number[][];
  /** Whether every scenario's labelings were enumerated (else sampled). */
  readonly exact: boolean;
}

export interface PermutationOptions {
  /** Enumerate all labelings up to this many per scenario. @default 200000 (10 vs 10 is 184,756) */
  readonly exactLimit?: number;
  /** Random labelings beyond it. @default 20000 */
  readonly resamples?: number;
  readonly seed?: number;
}

/** C(n, k) as a double (exact while below 2⁵³). */
export function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return Math.round(c);
}

/** Midranks (1-based) of values, ties sharing the mean of their ranks. */
function midranks(values: readonly number[]): Float64Array {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < order.length;) {
    let j = i + 1;
    while (j < order.length && order[j]!.v === order[i]!.v) j++;
    for (let k = i; k < j; k++) ranks[order[k]!.i] = (i + 1 + j) / 2;
    i = j;
  }
  return ranks;
}

/** Calls visit with each k-subset of 0..n−1 (as an index array, reused), in lexicographic order. */
function eachSubset(n: number, k: number, visit: (subset: Int32Array) => void): void {
  const s = Int32Array.from({ length: k }, (_, i) => i);
  for (;;) {
    visit(s);
    let i = k - 1;
    while (i >= 0 && s[i] === n - k + i) i--;
    if (i < 0) return;
    s[i]!++;
    for (let j = i + 1; j < k; j++) s[j] = s[j - 1]! + 1;
  }
}

/** Partial Fisher-Yates: a random k-subset of 0..n−1 into out. */
function randomSubset(n: number, k: number, random: () => number, pool: Int32Array, out: Int32Array): void {
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
    out[i] = pool[i]!;
  }
}

/**
 * For one scenario: each metric's rank-sum of the head over every labeling (the observed
 * one first), turned into each labeling's one-sided p per metric: the share of labelings
 * whose head rank-sum is at least as large.
 */
function scenarioNull(rows: RunRows, options: Required<PermutationOptions>, seed: number): { p: Float64Array[]; exact: boolean } {
  const pooled = [...rows.base, ...rows.head];
  const n = pooled.length;
  const k = rows.head.length;
  const metrics = pooled[0]?.length ?? 0;
  const ranks = Array.from({ length: metrics }, (_, m) => midranks(pooled.map((r) => r[m]!)));
  const total = binomial(n, k);
  const exact = total <= options.exactLimit;
  const labelings = exact ? total : options.resamples + 1;
  const sums = Array.from({ length: metrics }, () => new Float64Array(labelings));
  let at = 0;
  const record = (subset: Int32Array) => {
    for (let m = 0; m < metrics; m++) {
      let s = 0;
      for (let i = 0; i < k; i++) s += ranks[m]![subset[i]!]!;
      sums[m]![at] = s;
    }
    at++;
  };
  // The observed labeling (head = the last k runs) always first.
  record(Int32Array.from({ length: k }, (_, i) => n - k + i));
  if (exact) {
    const observedFirst = n - k;
    eachSubset(n, k, (s) => {
      if (!(s[0] === observedFirst)) record(s);
    });
  } else {
    const random = mulberry32(seed);
    const pool = new Int32Array(n);
    const out = new Int32Array(k);
    for (let r = 0; r < options.resamples; r++) {
      randomSubset(n, k, random, pool, out);
      record(out);
    }
  }
  // Metrics with the same ranks (all of them, without ties: 1 … n) share one null
  // distribution of the rank-sum. Estimating it once from all of their columns keeps their
  // p-values on the same levels: estimated per metric, a sampled run put two metrics' equal
  // p-values a hair apart, which biased the minimum (A/A false alarms 0.08 against 0.09 exact).
  const groups = new Map<string, number[]>();
  ranks.forEach((r, m) => {
    const key = Float64Array.from(r).sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), m]);
  });
  const p = new Array<Float64Array>(metrics);
  for (const members of groups.values()) {
    const tail = survivalTable(members.map((m) => sums[m]!));
    for (const m of members) p[m] = sums[m]!.map((v) => tail[Math.round(2 * v)]!);
  }
  return { p, exact };
}

/**
 * P(rank-sum ≥ v) for every v, indexed by 2v: rank-sums are multiples of ½ within
 * [0, n(n+1)/2], so a histogram and its suffix sums give every p at once, linear in the
 * number of labelings (sorting them took two seconds a gate at 10 runs a side).
 */
function survivalTable(columns: readonly Float64Array[]): Float64Array {
  let top = 0;
  for (const c of columns) for (const v of c) top = Math.max(top, Math.round(2 * v));
  const counts = new Float64Array(top + 2);
  let size = 0;
  for (const c of columns) {
    for (const v of c) counts[Math.round(2 * v)]!++;
    size += c.length;
  }
  const tail = new Float64Array(top + 2);
  for (let i = top; i >= 0; i--) tail[i] = tail[i + 1]! + counts[i]!;
  for (let i = 0; i <= top; i++) tail[i] = tail[i]! / size;
  return tail;
}

/**
 * Westfall-Young step-down minP over every metric of every scenario. A scenario with no
 * runs on a side, or no metrics, takes no part (its entries are NaN).
 */
export function stepDownMinP(scenarios: readonly RunRows[], options: PermutationOptions = {}): StepDownResult {
  const o: Required<PermutationOptions> = { exactLimit: options.exactLimit ?? 200_000, resamples: options.resamples ?? 20_000, seed: options.seed ?? 1 };
  const nulls = scenarios.map((s, i) => (s.base.length && s.head.length && s.base[0]!.length ? scenarioNull(s, o, o.seed + i) : null));
  const raw = scenarios.map((s, i) => (nulls[i] ? nulls[i].p.map((column) => column[0]!) : (s.base[0] ?? s.head[0] ?? []).map(() => Number.NaN)));
  const hypotheses = raw.flatMap((ps, s) => ps.map((p, m) => ({ s, m, p }))).filter((h) => !Number.isNaN(h.p));
  hypotheses.sort((a, b) => a.p - b.p);
  // Backwards: the remaining set grows by one hypothesis per step, so each scenario's
  // per-labeling minimum over it is kept up to date in one pass.
  const minOver = nulls.map((n) => (n ? new Float64Array(n.p[0]!.length).fill(Infinity) : null));
  const combined = new Array<number>(hypotheses.length);
  for (let j = hypotheses.length - 1; j >= 0; j--) {
    const h = hypotheses[j]!;
    const column = nulls[h.s]!.p[h.m]!;
    const mins = minOver[h.s]!;
    for (let l = 0; l < mins.length; l++) if (column[l]! < mins[l]!) mins[l] = column[l]!;
    let survive = 1;
    for (const m of minOver) {
      if (!m) continue;
      let hits = 0;
      for (let l = 0; l < m.length; l++) if (m[l]! <= h.p * (1 + 1e-12)) hits++;
      survive *= 1 - hits / m.length;
    }
    combined[j] = 1 - survive;
  }
  const adjusted = raw.map((ps) => ps.map(() => Number.NaN));
  let running = 0;
  hypotheses.forEach((h, j) => {
    // Never below its own p (1 − (1 − x) can lose the last bit of x).
    running = Math.max(running, h.p, Math.min(1, combined[j]!));
    adjusted[h.s]![h.m] = running;
  });
  return { raw, adjusted, exact: nulls.every((n) => n === null || n.exact) };
}

/**
 * The smallest adjusted p this design can reach: every metric of one scenario moving
 * together in its most extreme labeling, across this many scenarios. Below α or the
 * gate cannot call anything a regression, however large.
 */
export function smallestAdjustedP(nBase: number, nHead: number, scenarios: number): number {
  return 1 - (1 - 1 / binomial(nBase + nHead, nHead)) ** Math.max(1, scenarios);
}

/** Runs a side needed before the gate could reach α at all (same count both sides). */
export function runsNeeded(scenarios: number, alpha: number): number {
  let n = 2;
  while (smallestAdjustedP(n, n, scenarios) >= alpha && n < 1000) n++;
  return n;
}
