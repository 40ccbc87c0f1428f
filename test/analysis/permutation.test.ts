import { describe, expect, test } from 'vitest';
import { binomial, runsNeeded, smallestAdjustedP, stepDownMinP, type RunRows } from '../../src/analysis/permutation.js';
import { mannWhitneyU } from '../../src/analysis/significance.js';

/** Deterministic pseudo-random normals (Box-Muller over a seeded LCG). */
function normals(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** n runs of k metrics, each metric 1000·(1 + cv·(ρ-shared + own noise)), scaled by `factor`. */
function runs(n: number, k: number, random: () => number, factor = 1, rho = 0.9, cv = 0.05): number[][] {
  return Array.from({ length: n }, () => {
    const shared = random();
    return Array.from({ length: k }, () => 1000 * factor * (1 + cv * (Math.sqrt(rho) * shared + Math.sqrt(1 - rho) * random())));
  });
}

describe(stepDownMinP, () => {
  test('one metric: the permutation p is the exact one-sided Mann-Whitney p (half the two-sided one, below ½)', () => {
    const random = normals(7);
    for (let i = 0; i < 20; i++) {
      const base = runs(6, 1, random);
      const head = runs(6, 1, random, 1.03);
      const { raw, adjusted } = stepDownMinP([{ base, head }]);
      const two = mannWhitneyU(
        head.map((r) => r[0]!),
        base.map((r) => r[0]!),
      ).p!;
      if (two < 1) expect(raw[0]![0]).toBeCloseTo(head[0]![0]! > 0 && raw[0]![0]! < 0.5 ? two / 2 : raw[0]![0]!, 12);
      expect(adjusted[0]![0]).toBeCloseTo(raw[0]![0]!, 12);
    }
  });

  test('the 6-vs-6 floor: every metric of every scenario separated gives 1 − (1 − 1/924)^4, where Holm over 28 would give 28 × 0.00216 > 0.05', () => {
    const random = normals(1);
    const scenarios: RunRows[] = Array.from({ length: 4 }, () => {
      const base = runs(6, 7, random);
      return { base, head: base.map((r) => r.map((v) => v * 1.5)) };
    });
    const { raw, adjusted, exact } = stepDownMinP(scenarios);
    expect(exact).toBe(true);
    for (const s of raw) for (const p of s) expect(p).toBeCloseTo(1 / 924, 12);
    for (const s of adjusted) for (const p of s) expect(p).toBeCloseTo(1 - (1 - 1 / 924) ** 4, 10);
    expect(smallestAdjustedP(6, 6, 4)).toBeCloseTo(0.00432, 5);
  });

  test('step-down: a scenario with no change does not dilute one that changed, and stays unconfirmed itself', () => {
    const random = normals(3);
    const changedBase = runs(6, 3, random);
    const still = runs(12, 3, random);
    const { adjusted } = stepDownMinP([
      { base: changedBase, head: changedBase.map((r) => r.map((v) => v * 1.5)) },
      { base: still.slice(0, 6), head: still.slice(6) },
    ]);
    expect(Math.max(...adjusted[0]!)).toBeLessThan(0.01);
    expect(Math.min(...adjusted[1]!)).toBeGreaterThan(0.05);
  });

  test('beyond the exact limit a seeded sample of labelings agrees with the enumeration', () => {
    const random = normals(5);
    const base = runs(7, 4, random);
    const head = runs(7, 4, random, 1.04);
    const exact = stepDownMinP([{ base, head }]);
    const sampled = stepDownMinP([{ base, head }], { exactLimit: 100, resamples: 20_000, seed: 9 });
    expect(exact.exact).toBe(true);
    expect(sampled.exact).toBe(false);
    // Within 0.01 (about five standard errors of 20,000 draws); estimating each metric's null
    // apart (instead of once for metrics with the same ranks) was 0.02 low here.
    for (let m = 0; m < 4; m++) expect(Math.abs(sampled.adjusted[0]![m]! - exact.adjusted[0]![m]!)).toBeLessThan(0.01);
    expect(stepDownMinP([{ base, head }], { exactLimit: 100, seed: 9 })).toEqual(sampled);
  });

  test('A/A: with no change, at most about 5% of gates confirm anything at α = 0.05 (200 simulated gates of 4 scenarios × 7 correlated metrics)', () => {
    const random = normals(11);
    let alarms = 0;
    for (let g = 0; g < 200; g++) {
      const scenarios = Array.from({ length: 4 }, () => ({ base: runs(6, 7, random), head: runs(6, 7, random) }));
      if (
        stepDownMinP(scenarios)
          .adjusted.flat()
          .some((p) => p < 0.05)
      )
        alarms++;
    }
    // Clopper-Pearson: 17/200 would put the rate's interval above 5%.
    expect(alarms).toBeLessThan(17);
  });

  test('runs needed before the gate can confirm anything at all', () => {
    expect(binomial(12, 6)).toBe(924);
    // 4 scenarios: 1 − (1 − 1/70)⁴ = 0.056 at 4 a side, 0.016 at 5.
    expect(runsNeeded(4, 0.05)).toBe(5);
    expect(runsNeeded(28, 0.05)).toBe(6);
    expect(smallestAdjustedP(3, 3, 1)).toBeCloseTo(0.05, 12);
  });
});
