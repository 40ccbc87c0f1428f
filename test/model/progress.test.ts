import { describe, expect, test } from 'vitest';
import { percentDone } from '../../src/model/progress.js';
import type { ProgressSample } from '../../src/generated/results.js';

const sample = (totalBytes: number | null, remainingBytes: number | null, transferredBytes: number | null = null) =>
  ({ totalBytes, remainingBytes, transferredBytes }) as ProgressSample;

describe(percentDone, () => {
  test('what is no longer left of the total, whatever was sent twice', () => {
    expect(percentDone(sample(1000, 250, 2000))).toBe(75);
    expect(percentDone(sample(1000, 0))).toBe(100);
    expect(percentDone(sample(1000, 1000))).toBe(0);
  });

  test('no share where the hypervisor reports no total or nothing left (a vendor task), nor from a bad total', () => {
    expect(percentDone(sample(null, 10))).toBeNull();
    expect(percentDone(sample(1000, null))).toBeNull();
    expect(percentDone(sample(0, 0))).toBeNull();
    expect(percentDone(sample(1000, 1200))).toBe(0);
  });
});
