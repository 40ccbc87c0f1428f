import { describe, expect, test } from 'vitest';
import { coefficientOfVariation, max, mean, median, min, percentile, sampleStdDev, summarize } from '../../src/analysis/stats.js';

describe(median, () => {
  test('middle value for an odd count, mean of the two middle ones for an even count', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNull();
  });

  // Found by test/properties/compare.prop.test.ts.
  test('two middle values near the top of the double range: their mean, not Infinity', () => {
    expect(median([9e307, 9e307])).toBe(9e307);
    expect(median([-Number.MAX_VALUE, -Number.MAX_VALUE, 0, 1])).toBe(-Number.MAX_VALUE / 2);
  });
});

describe(percentile, () => {
  // The classic nearest-rank example: 15, 20, 35, 40, 50.
  const xs = [50, 15, 40, 20, 35];

  test('nearest rank: sorted[ceil(p/100 · n) − 1], always a measured value', () => {
    expect(percentile(xs, 5)).toBe(15);
    expect(percentile(xs, 30)).toBe(20);
    expect(percentile(xs, 40)).toBe(20);
    expect(percentile(xs, 41)).toBe(35);
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 100)).toBe(50);
  });

  test('p0 is the minimum, p95 of fewer than 20 values is the maximum', () => {
    expect(percentile(xs, 0)).toBe(15);
    expect(percentile([1, 2, 3], 95)).toBe(3);
    const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(oneToTwenty, 95)).toBe(19);
    expect(percentile([...oneToTwenty, 21], 95)).toBe(20);
  });

  test('ranks that are whole numbers are not pushed up by floating point', () => {
    // 0.07 · 100 is 7.000000000000001 in floating point: rank 7, not 8.
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 7)).toBe(7);
  });

  test('one value, no value, and p outside 0..100', () => {
    expect(percentile([42], 95)).toBe(42);
    expect(percentile([42], 0)).toBe(42);
    expect(percentile([], 95)).toBeNull();
    expect(() => percentile(xs, 101)).toThrow(RangeError);
    expect(() => percentile(xs, -1)).toThrow(RangeError);
    expect(() => percentile(xs, Number.NaN)).toThrow(RangeError);
  });
});

describe('min, max, mean', () => {
  test('known values, null when empty', () => {
    expect(min([3, -1, 2])).toBe(-1);
    expect(max([3, -1, 2])).toBe(3);
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    expect(min([])).toBeNull();
    expect(max([])).toBeNull();
    expect(mean([])).toBeNull();
  });
});

describe(sampleStdDev, () => {
  test('divides by n − 1', () => {
    // Population SD of this set is exactly 2; the sample SD is sqrt(32/7).
    expect(sampleStdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.138089935299395, 12);
    expect(sampleStdDev([641, 700])).toBeCloseTo(41.71930009000631, 10);
    expect(sampleStdDev([5, 5, 5])).toBe(0);
  });

  test('null for fewer than two values', () => {
    expect(sampleStdDev([5])).toBeNull();
    expect(sampleStdDev([])).toBeNull();
  });

  test('stays accurate for large values close together', () => {
    expect(sampleStdDev([1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16])).toBeCloseTo(Math.sqrt(30), 6);
  });
});

describe(coefficientOfVariation, () => {
  test('sample SD over mean', () => {
    expect(coefficientOfVariation([4, 6])).toBeCloseTo(0.282842712474619, 12);
    expect(coefficientOfVariation([5, 5])).toBe(0);
  });

  // Found by test/properties/compare.prop.test.ts: deviations above ~1.3e154 squared to Infinity.
  test('huge values: the deviations do not overflow', () => {
    expect(sampleStdDev([1e300, 3e300])).toBeCloseTo(Math.SQRT2 * 1e300, -286);
    expect(coefficientOfVariation([1.5e154, 0, 0, 0, 0, 0])).toBeCloseTo(Math.sqrt(6), 12);
  });

  test('null for fewer than two values or a zero mean', () => {
    expect(coefficientOfVariation([5])).toBeNull();
    expect(coefficientOfVariation([])).toBeNull();
    expect(coefficientOfVariation([-1, 1])).toBeNull();
  });
});

describe(summarize, () => {
  test('every statistic at once', () => {
    const s = summarize([3, 1, 2]);
    expect(s).toEqual({ n: 3, median: 2, p95: 3, min: 1, max: 3, mean: 2, cv: 0.5 });
  });

  test('one value: no spread', () => {
    expect(summarize([7])).toEqual({ n: 1, median: 7, p95: 7, min: 7, max: 7, mean: 7, cv: null });
  });

  test('empty: n 0 and nulls', () => {
    expect(summarize([])).toEqual({ n: 0, median: null, p95: null, min: null, max: null, mean: null, cv: null });
  });

  test('does not touch its input', () => {
    const xs = Object.freeze([3, 1, 2]);
    expect(() => summarize(xs)).not.toThrow();
    expect(xs).toEqual([3, 1, 2]);
  });
});
