import { describe, expect, test } from 'vitest';
import { bootstrapRatioCI, hodgesLehmannShift, holm, mannWhitneyU, medianConfidenceInterval, minimumDetectableEffectPct, relativeChange } from '../../src/analysis/significance.js';

// Reference numbers below come from scipy 1.17 (numpy for medians of pairwise differences),
// with the call that produced each one next to it.

/** A seeded PRNG (mulberry32) and Box-Muller normals, so that simulations are reproducible. */
function normals(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

const A = [10.2, 11.5, 9.8, 12.1, 10.9, 11.3];
const B = [12.4, 13.1, 11.9, 12.8, 13.5, 12.2, 11.7];
const C = [3.1, 4.7, 2.2, 5.9, 4.1, 3.8, 6.3, 2.9, 5.2, 4.4, 3.3, 5.6];
const D = [4.9, 6.1, 3.6, 7.2, 5.4, 6.8, 4.2, 7.7, 5.8, 6.5, 3.9, 7.0, 6.0, 5.1, 8.1];

describe(mannWhitneyU, () => {
  test('exact p-values match scipy', () => {
    // stats.mannwhitneyu(a, b, alternative='two-sided', method='exact') in scipy 1.17:
    // ([1,2,3], [4,5,6]) → U=0, p=0.1
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6])).toEqual({ u: 0, p: expect.closeTo(0.1, 12), exact: true });
    // ([1..5], [6..10]) → U=0, p=0.007936507936507936
    expect(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p).toBeCloseTo(0.007936507936507936, 14);
    // (A, B) → U=2.0, p=0.004662004662004662
    expect(mannWhitneyU(A, B)).toEqual({ u: 2, p: expect.closeTo(0.004662004662004662, 14), exact: true });
    // (C, D) → U=36.0, p=0.007404224378245108
    expect(mannWhitneyU(C, D)).toEqual({ u: 36, p: expect.closeTo(0.007404224378245108, 14), exact: true });
    // ([0..49], [20.5..69.5]) → U=435.0, p=3.3553375012888766e-09 (50 vs 50: still exact)
    const r = mannWhitneyU(
      Array.from({ length: 50 }, (_, i) => i),
      Array.from({ length: 50 }, (_, i) => i + 20.5),
    );
    expect(r.u).toBe(435);
    expect(r.exact).toBe(true);
    expect(r.p! / 3.3553375012888766e-9).toBeCloseTo(1, 10);
  });

  test('U is the first sample’s count of wins plus ½ per tie; swapping the samples mirrors it', () => {
    expect(mannWhitneyU([4, 5, 6], [1, 2, 3])).toMatchObject({ u: 9, p: expect.closeTo(0.1, 12) });
    expect(mannWhitneyU([1, 3], [2, 3]).u).toBe(1.5); // 3 > 2, 3 = 3
    expect(mannWhitneyU(D, C).u).toBe(C.length * D.length - 36);
    expect(mannWhitneyU(D, C).p).toBeCloseTo(mannWhitneyU(C, D).p!, 15);
  });

  test('the smallest possible p: 0.1 at 3 vs 3 (never < 0.05), 0.00794 at 5 vs 5', () => {
    expect(mannWhitneyU([1, 2, 3], [7, 8, 9]).p).toBeCloseTo(0.1, 12);
    expect(mannWhitneyU([1, 2], [7, 8, 9]).p).toBeCloseTo(0.2, 12);
    expect(mannWhitneyU([1, 2, 3, 4, 5], [7, 8, 9, 10, 11]).p).toBeCloseTo(0.00794, 5);
    // Identical orderings give p = 1, not more (scipy clips 2·P(U ≥ mn/2) too).
    expect(mannWhitneyU([1, 4], [2, 3]).p).toBe(1);
  });

  test('ties or a sample over 50 use the normal approximation with tie and continuity correction', () => {
    // stats.mannwhitneyu([1,2,2,3,3,3,4,5], [3,4,4,5,5,6,7,7,8], alternative='two-sided',
    // method='asymptotic') in scipy 1.17 → U=7.5, p=0.006373133838085873
    expect(mannWhitneyU([1, 2, 2, 3, 3, 3, 4, 5], [3, 4, 4, 5, 5, 6, 7, 7, 8])).toEqual({
      u: 7.5,
      p: expect.closeTo(0.006373133838085873, 14),
      exact: false,
    });
    // ([7,7,7], [7,7], method='asymptotic') → U=3.0, p=1.0
    expect(mannWhitneyU([7, 7, 7], [7, 7])).toEqual({ u: 3, p: 1, exact: false });
    // ([0..50], [20.5..70.5], method='asymptotic') → U=465.0, p=2.2915725878911982e-08
    const r = mannWhitneyU(
      Array.from({ length: 51 }, (_, i) => i),
      Array.from({ length: 51 }, (_, i) => i + 20.5),
    );
    expect(r.u).toBe(465);
    expect(r.exact).toBe(false);
    expect(r.p! / 2.2915725878911982e-8).toBeCloseTo(1, 10);
  });

  test('p is null for an empty sample; non-finite values are refused; inputs are not mutated', () => {
    expect(mannWhitneyU([], [1, 2])).toEqual({ u: 0, p: null, exact: false });
    expect(mannWhitneyU([1], [])).toEqual({ u: 0, p: null, exact: false });
    expect(() => mannWhitneyU([1, Number.NaN], [2])).toThrow(RangeError);
    const a = Object.freeze([3, 1, 2]);
    const b = Object.freeze([6, 4, 5]);
    mannWhitneyU(a, b);
    expect(a).toEqual([3, 1, 2]);
    expect(b).toEqual([6, 4, 5]);
  });
});

describe(hodgesLehmannShift, () => {
  // References: shift = numpy.median(numpy.subtract.outer(b, a)); the bounds are the k-th
  // smallest and k-th largest differences, k − 1 the largest u with
  // scipy.stats._mannwhitneyu._MWU(m, n).cdf(u) ≤ (1 − confidence)/2 (scipy 1.17).
  test('shift and interval match the reference', () => {
    // k = 7 of 42 differences, coverage 0.965
    expect(hodgesLehmannShift(A, B)).toEqual({ shift: 1.5, low: expect.closeTo(0.4, 12), high: expect.closeTo(2.6, 12) });
    // k = 50 of 180 at 95 % (coverage 0.953), k = 56 at 90 % (coverage 0.907)
    expect(hodgesLehmannShift(C, D)).toEqual({ shift: expect.closeTo(1.6, 12), low: expect.closeTo(0.5, 12), high: expect.closeTo(2.8, 12) });
    expect(hodgesLehmannShift(C, D, 0.9)).toEqual({ shift: expect.closeTo(1.6, 12), low: expect.closeTo(0.7, 12), high: expect.closeTo(2.6, 12) });
    // 10 vs 10: k = 24 of 100
    expect(
      hodgesLehmannShift(
        Array.from({ length: 10 }, (_, i) => i),
        Array.from({ length: 10 }, (_, i) => i + 0.5),
      ),
    ).toEqual({ shift: 0.5, low: -2.5, high: 3.5 });
  });

  // Found by test/properties/compare.prop.test.ts: the two middle differences summed to Infinity.
  test('differences near the top of the double range: the shift is finite, and relative change is not NaN', () => {
    expect(hodgesLehmannShift([-9e307, -9e307], [1, 1]).shift).toBe(9e307);
    expect(relativeChange([-8.98846567431158e307, -8.98846567431158e307], [1, 1]).ratio).toBe(2);
  });

  test('null bounds when the samples are too small for the confidence', () => {
    expect(hodgesLehmannShift([1, 2, 3], [4, 5, 6])).toEqual({ shift: 3, low: null, high: null });
    // At 90 % the extreme differences of 3 vs 3 cover exactly 1 − 2/20 = 0.9.
    expect(hodgesLehmannShift([1, 2, 3], [4, 5, 6], 0.9)).toEqual({ shift: 3, low: 1, high: 5 });
    // 4 vs 4 at 95 %: k = 1, coverage 0.971.
    expect(hodgesLehmannShift([1, 2, 3, 4], [5, 6, 7, 8])).toEqual({ shift: 4, low: 1, high: 7 });
    expect(() => hodgesLehmannShift([], [1])).toThrow(RangeError);
    expect(() => hodgesLehmannShift([1], [2], 1)).toThrow(RangeError);
  });

  test('large samples use the normal approximation for k and still bracket the shift', () => {
    const next = normals(5);
    const a = Array.from({ length: 80 }, () => next());
    const b = Array.from({ length: 70 }, () => next() + 1);
    const r = hodgesLehmannShift(a, b);
    expect(r.low!).toBeLessThan(r.shift);
    expect(r.high!).toBeGreaterThan(r.shift);
    expect(r.low!).toBeGreaterThan(0.4);
    expect(r.high!).toBeLessThan(1.6);
  });

  test('the 95 % interval covers the true shift in at least 93 % of 2000 normal samples of 10', () => {
    const next = normals(42);
    let covered = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const a = Array.from({ length: 10 }, () => next());
      const b = Array.from({ length: 10 }, () => next() + 0.7);
      const { low, high } = hodgesLehmannShift(a, b);
      if (low! <= 0.7 && 0.7 <= high!) covered++;
    }
    expect(covered / 2000).toBeGreaterThanOrEqual(0.93); // nominal 0.957 at 10 vs 10
  });
});

describe(relativeChange, () => {
  test('Hodges-Lehmann shift of the logarithms, as a percentage', () => {
    // numpy: d = sorted(log(b_j) − log(a_i)) for (A, B); (exp(median(d)) − 1)·100 and the
    // 7th smallest / largest (k from scipy as above) → 13.837230456006333 [3.5398…, 25.4901…]
    const r = relativeChange(A, B);
    expect(r.deltaPct!).toBeCloseTo(13.837230456006333, 10);
    expect(r.ratio!).toBeCloseTo(1.13837230456006333, 12);
    expect(r.lowPct!).toBeCloseTo(3.539823008849541, 10);
    expect(r.highPct!).toBeCloseTo(25.490196078431392, 10);
    // A pure scale change is exactly that ratio.
    expect(relativeChange([10, 20, 30], [11, 22, 33]).deltaPct!).toBeCloseTo(10, 10);
  });

  test('falls back to the raw shift over the base median when a value is not positive', () => {
    const r = relativeChange([0, 10, 20, 30, 40, 50], [5, 15, 25, 35, 45, 55]);
    expect(r.deltaPct).toBeCloseTo(20, 12); // shift 5 over base median 25
    expect(r.ratio).toBeCloseTo(1.2, 12);
    expect(r.lowPct!).toBeLessThan(20);
    expect(r.highPct!).toBeGreaterThan(20);
    expect(relativeChange([0, 0, 0], [1, 2, 3])).toEqual({ ratio: null, deltaPct: null, lowPct: null, highPct: null });
  });

  test('null for an empty sample, null bounds for too few values', () => {
    expect(relativeChange([], [1])).toEqual({ ratio: null, deltaPct: null, lowPct: null, highPct: null });
    const r = relativeChange([10, 11, 12], [12, 13, 14]);
    expect(r.deltaPct).not.toBeNull();
    expect(r.lowPct).toBeNull();
    expect(r.highPct).toBeNull();
  });

  test('the 95 % interval covers the true ratio in at least 93 % of 2000 log-normal samples of 10', () => {
    const next = normals(7);
    let covered = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const base = Array.from({ length: 10 }, () => 100 * Math.exp(0.05 * next()));
      const head = Array.from({ length: 10 }, () => 105 * Math.exp(0.05 * next()));
      const { lowPct, highPct } = relativeChange(base, head);
      if (lowPct! <= 5 + 1e-9 && 5 - 1e-9 <= highPct!) covered++;
    }
    expect(covered / 2000).toBeGreaterThanOrEqual(0.93);
  });
});

describe(medianConfidenceInterval, () => {
  test('order statistics from the binomial distribution', () => {
    // k = largest k with scipy.stats.binom.cdf(k − 1, n, 0.5) ≤ 0.025 (scipy 1.17):
    // n=6 → k=1 (coverage 0.969), n=10 → k=2 (0.979), n=20 → k=6 (0.959); n=5 → none.
    const oneTo = (n: number) => Array.from({ length: n }, (_, i) => n - i); // descending: it sorts
    expect(medianConfidenceInterval(oneTo(5))).toEqual({ low: null, high: null });
    expect(medianConfidenceInterval(oneTo(6))).toEqual({ low: 1, high: 6 });
    expect(medianConfidenceInterval(oneTo(10))).toEqual({ low: 2, high: 9 });
    expect(medianConfidenceInterval(oneTo(20))).toEqual({ low: 6, high: 15 });
    expect(medianConfidenceInterval(oneTo(5), 0.9)).toEqual({ low: 1, high: 5 }); // 1 − 2/32 = 0.9375
    expect(medianConfidenceInterval([])).toEqual({ low: null, high: null });
    // Large n does not underflow.
    const big = medianConfidenceInterval(oneTo(2000));
    expect(big.low).toBeGreaterThan(900);
    expect(big.high).toBeLessThan(1101);
  });

  test('does not mutate its input', () => {
    const xs = Object.freeze([5, 3, 1, 4, 2, 6]);
    medianConfidenceInterval(xs);
    expect(xs).toEqual([5, 3, 1, 4, 2, 6]);
  });

  test('the 95 % interval covers the true median in at least 93 % of 2000 normal samples of 10', () => {
    const next = normals(1);
    let covered = 0;
    for (let trial = 0; trial < 2000; trial++) {
      const { low, high } = medianConfidenceInterval(Array.from({ length: 10 }, () => 3 + next()));
      if (low! <= 3 && 3 <= high!) covered++;
    }
    expect(covered / 2000).toBeGreaterThanOrEqual(0.93); // nominal 0.979 at n = 10
  });
});

describe(holm, () => {
  test('the Holm-Bonferroni example (p = 0.01, 0.04, 0.03, 0.005)', () => {
    // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → 0.06 (monotone).
    const adjusted = holm([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((p, i) => expect(adjusted[i]).toBeCloseTo(p, 15));
  });

  test('nulls stay in place and are not counted; capped at 1', () => {
    const adjusted = holm([0.5, null, 0.3, 0.04]);
    expect(adjusted[1]).toBeNull();
    expect(adjusted[0]).toBeCloseTo(0.6, 15); // m = 3: 0.04·3 = 0.12, 0.3·2 = 0.6, 0.5·1 → 0.6
    expect(adjusted[2]).toBeCloseTo(0.6, 15);
    expect(adjusted[3]).toBeCloseTo(0.12, 15);
    expect(holm([0.6, 0.7])).toEqual([1, 1]);
    expect(holm([])).toEqual([]);
    expect(holm([null])).toEqual([null]);
    expect(() => holm([1.5])).toThrow(RangeError);
  });
});

describe(minimumDetectableEffectPct, () => {
  test('2.80·CV·√(2/n), as in ci-benchmarking.md §5', () => {
    expect(minimumDetectableEffectPct(0.05, 5)).toBeCloseTo(8.85, 2);
    expect(minimumDetectableEffectPct(0.05, 10)).toBeCloseTo(6.26, 2);
    expect(minimumDetectableEffectPct(0.05, 20)).toBeCloseTo(4.43, 2);
    expect(minimumDetectableEffectPct(null, 10)).toBeNull();
    expect(minimumDetectableEffectPct(0.05, 1)).toBeNull();
    // Found by test/properties/compare.prop.test.ts: a CV of -6.5e305 gave Infinity.
    expect(minimumDetectableEffectPct(-7e305, 2)).toBeNull();
  });
});

describe(bootstrapRatioCI, () => {
  const next = normals(3);
  const base = Array.from({ length: 30 }, () => 100 + 3 * next());
  const head = Array.from({ length: 30 }, () => 110 + 3 * next());

  test('reproducible with a seed, and brackets the ratio of the medians', () => {
    const r = bootstrapRatioCI(base, head);
    expect(bootstrapRatioCI(base, head)).toEqual(r);
    expect(bootstrapRatioCI(base, head, { seed: 2 })).not.toEqual(r);
    expect(r.low!).toBeLessThan(1.1);
    expect(r.high!).toBeGreaterThan(1.1);
    expect(r.low!).toBeGreaterThan(1.05);
    expect(r.high!).toBeLessThan(1.15);
    const narrower = bootstrapRatioCI(base, head, { confidence: 0.5, resamples: 2000 });
    expect(narrower.low!).toBeGreaterThan(r.low!);
    expect(narrower.high!).toBeLessThan(r.high!);
  });

  test('null for an empty sample or a base median that can be zero', () => {
    expect(bootstrapRatioCI([], [1])).toEqual({ low: null, high: null });
    expect(bootstrapRatioCI([0, 0, 1], [1, 2, 3])).toEqual({ low: null, high: null });
    expect(() => bootstrapRatioCI([1], [1], { resamples: 0 })).toThrow(RangeError);
  });

  // Found by test/properties/compare.prop.test.ts: infinite ratios interpolated to NaN.
  test('a base median so small that the ratio is infinite: null, not NaN', () => {
    expect(bootstrapRatioCI([Number.MIN_VALUE], [-1, -1], { resamples: 50 })).toEqual({ low: null, high: null });
  });

  test('constant samples give the exact ratio', () => {
    expect(bootstrapRatioCI([4, 4, 4, 4], [5, 5, 5], { resamples: 100 })).toEqual({ low: 1.25, high: 1.25 });
  });
});

// Its speed is measured by scripts/bench-compare.ts (a benchmark, not a timed test).
test('1,000 scenarios × 30 samples each: every p-value valid, and a 2 % shift found as often as theory says', () => {
  const next = normals(9);
  const scenarios = Array.from({ length: 1000 }, () => ({
    base: Array.from({ length: 30 }, () => 100 * Math.exp(0.05 * next())),
    head: Array.from({ length: 30 }, () => 102 * Math.exp(0.05 * next())),
  }));
  const ps = scenarios.map(({ base, head }) => {
    medianConfidenceInterval(base);
    medianConfidenceInterval(head);
    relativeChange(base, head);
    return mannWhitneyU(base, head).p;
  });
  const adjusted = holm(ps);
  for (const p of [...ps, ...adjusted]) expect(p !== null && p >= 0 && p <= 1).toBe(true);
  // A 2 % shift with 5 % noise, 30 samples a side: effect size 0.4, power about a third at α 0.05.
  const found = ps.filter((p) => p !== null && p < 0.05).length;
  expect(found).toBeGreaterThan(250);
  expect(found).toBeLessThan(450);
});
