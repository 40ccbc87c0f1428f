import { describe, expect, test } from 'vitest';
import { failureMessage } from '../../src/vitest/reporter.js';

describe(failureMessage, () => {
  test('keeps the figures that follow a header line, on one line', () => {
    expect(failureMessage('idle #1 (mb01): 1 of 2 thresholds exceeded:\n  downtime ms (observed) measured 612 ms, expected at most 500 ms\n')).toBe(
      'idle #1 (mb01): 1 of 2 thresholds exceeded: downtime ms (observed) measured 612 ms, expected at most 500 ms',
    );
  });
  test('says failed without a message and caps a long one', () => {
    expect(failureMessage(undefined)).toBe('failed');
    expect(failureMessage('x'.repeat(5000))).toHaveLength(1000);
  });
});
