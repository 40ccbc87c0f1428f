import { describe, expect, test } from 'vitest';
import { analyseGaps, gapAcross, steadySince } from '../../src/probes/gaps.js';
import { nsToEpochMs } from '../../src/model/time.js';

const at = (ms: number[], seqs?: number[]) => ms.map((atMs, i) => ({ atMs, seq: seqs?.[i] ?? i + 1 }));

describe(analyseGaps, () => {
  test('the largest gap after the origin, with sequence numbers lost inside it', () => {
    // Signals every 2 ms; 7 replies lost between t=1010 and t=1026.
    const signals = at([1000, 1002, 1004, 1006, 1008, 1010, 1026, 1028], [1, 2, 3, 4, 5, 6, 14, 15]);
    const a = analyseGaps(signals, { originMs: 1005, observedToMs: 1029, thresholdMs: 5 });
    expect(a.largestGapMs).toBe(16);
    expect(a.gaps).toEqual([{ startMs: 5, endMs: 21, durationMs: 16, missing: 7, open: false }]);
    expect(a.largestPair?.map((s) => s.seq)).toEqual([6, 14]);
    expect(a.baselineLargestGapMs).toBe(2);
  });

  test('gaps before the origin are the baseline, not the measurement', () => {
    const a = analyseGaps(at([0, 50, 52, 54, 56]), { originMs: 51, observedToMs: 57, thresholdMs: 10 });
    expect(a.baselineLargestGapMs).toBe(50);
    expect(a.largestGapMs).toBe(2);
    expect(a.gaps).toHaveLength(1);
  });

  test('a silence that never ends is open and gives no largest gap', () => {
    const a = analyseGaps(at([0, 2, 4]), { originMs: 3, observedToMs: 5000, thresholdMs: 20 });
    expect(a.largestGapMs).toBeNull();
    expect(a.largestGap).toMatchObject({ open: true, startMs: 1, endMs: 4997, durationMs: 4996 });
  });

  test('a closed gap longer than a short trailing silence still counts', () => {
    const a = analyseGaps(at([0, 2, 300, 302]), { originMs: 1, observedToMs: 330, thresholdMs: 20 });
    expect(a.largestGapMs).toBe(298);
    expect(a.gaps.map((g) => g.open)).toEqual([false, true]);
  });

  test('no signal at all', () => {
    const a = analyseGaps([], { originMs: 100, observedToMs: 600, thresholdMs: 20 });
    expect(a).toMatchObject({ largestGapMs: null, largestPair: null, baselineLargestGapMs: null });
    expect(a.gaps).toEqual([{ startMs: 0, endMs: 500, durationMs: 500, missing: 0, open: true }]);
  });

  test('out-of-order arrival is analysed in time order; reordered sequence numbers never count as negative loss', () => {
    const a = analyseGaps(at([10, 0, 5], [3, 1, 2]), { originMs: 0, observedToMs: 11, thresholdMs: 1 });
    expect(a.largestGapMs).toBe(5);
    expect(analyseGaps(at([0, 10], [5, 4]), { originMs: -1, observedToMs: 10, thresholdMs: 1 }).gaps[0]!.missing).toBe(0);
  });
});

describe(nsToEpochMs, () => {
  test('keeps sub-microsecond precision of nanosecond timestamps', () => {
    expect(nsToEpochMs('1795602417824495123')).toBeCloseTo(1795602417824 + 0.495123, 6);
    expect(() => nsToEpochMs('12ab')).toThrow(/not a nanosecond timestamp/);
  });
});

describe(gapAcross, () => {
  const at = (ms: number[]) => ms.map((atMs, i) => ({ seq: i + 1, atMs }));

  test('the silence around the instant, not the largest one elsewhere', () => {
    // A 100 ms stall at 0..100 (setup), the switchover silence 500..540.
    const signals = at([-10, 0, 100, 110, 490, 500, 540, 550]);
    expect(gapAcross(signals, 505)).toBe(40);
  });

  test('a signal delivered just after the instant does not hide the silence', () => {
    expect(gapAcross(at([490, 499, 503, 560]), 500)).toBe(57);
    expect(gapAcross(at([490, 499, 503, 560]), 500, 0)).toBe(4);
  });

  test('no signal after the instant: null', () => {
    expect(gapAcross(at([1, 2, 3]), 10)).toBeNull();
    expect(gapAcross([], 10)).toBeNull();
  });
});

describe(steadySince, () => {
  /** Replies every 2 ms from t = 1000 ms, seq from 1; `drop` leaves seqs out, `late` delays one arrival. */
  const replies = (n: number, drop: number[] = [], late: Record<number, number> = {}) =>
    Array.from({ length: n }, (_, i) => ({ seq: i + 1, atMs: 1000 + 2 * i + (late[i + 1] ?? 0) })).filter((r) => !drop.includes(r.seq));

  test('steady once the last `count` arrivals since the window began are consecutive and close', () => {
    expect(steadySince(replies(50), 1000, 50, 20)).toBe(true);
    expect(steadySince(replies(49), 1000, 50, 20)).toBe(false);
  });

  test('arrivals before the window began do not count', () => {
    expect(steadySince(replies(60), 1021, 50, 20)).toBe(false);
    expect(steadySince(replies(60), 1020, 50, 20)).toBe(true);
  });

  test('a lost reply or a silence of the gap threshold inside the tail is not steady; steady again after enough', () => {
    expect(steadySince(replies(60, [40]), 1000, 50, 20)).toBe(false);
    expect(steadySince(replies(100, [40]), 1000, 50, 20)).toBe(true);
    // 20 ms late: a silence of 22 ms before it.
    expect(steadySince(replies(60, [], { 55: 20 }), 1000, 50, 20)).toBe(false);
  });

  test('count 0: steady at once (fixed windows)', () => {
    expect(steadySince([], 0, 0, 20)).toBe(true);
  });
});
