import { describe, expect, test } from 'vitest';
import { epochMs, nsToEpochMs, sleep } from '../../src/model/time.js';

describe('time', () => {
  test('a nanosecond timestamp keeps its sub-millisecond part', () => {
    expect(nsToEpochMs('1795602417000250000')).toBe(1795602417000.25);
    expect(() => nsToEpochMs('12ab')).toThrow(/not a nanosecond timestamp: 12ab/);
  });
  test('epochMs is the wall clock with sub-ms precision, and sleep waits at least as long as asked', async () => {
    const before = epochMs();
    expect(Math.abs(before - Date.now())).toBeLessThan(50);
    await sleep(20);
    expect(epochMs() - before).toBeGreaterThanOrEqual(19);
  });
});
