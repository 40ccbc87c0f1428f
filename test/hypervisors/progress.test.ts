import { describe, expect, test } from 'vitest';
import { peak, statusSample, toProgressSample, type MigrationProgress } from '../../src/hypervisors/progress.js';

const progress = (over: Partial<MigrationProgress>): MigrationProgress => ({
  status: 'active',
  totalTimeMs: null,
  downtimeMs: null,
  expectedDowntimeMs: 300,
  setupTimeMs: null,
  transferredBytes: 1_000,
  remainingBytes: 9_000,
  totalBytes: 10_000,
  duplicatePages: null,
  normalPages: null,
  normalBytes: null,
  dirtyRatePagesPerSec: 40,
  bandwidthMbps: 100,
  iteration: 2,
  pageSizeBytes: null,
  precopyBytes: null,
  downtimeBytes: null,
  postcopyBytes: null,
  multifdBytes: null,
  cpuThrottlePercent: null,
  errorDescription: null,
  ...over,
});

describe('progress samples', () => {
  test('a sample keeps the timeline fields, its time rounded to the microsecond', () => {
    expect(toProgressSample(progress({}), 12.3456789)).toEqual({
      tMs: 12.346,
      status: 'active',
      transferredBytes: 1_000,
      remainingBytes: 9_000,
      totalBytes: 10_000,
      dirtyRatePagesPerSec: 40,
      bandwidthMbps: 100,
      iteration: 2,
      expectedDowntimeMs: 300,
    });
  });
  test('a status-only sample claims no counter', () => {
    const sample = statusSample(5, 'running');
    expect(Object.entries(sample).filter(([k, v]) => k !== 'tMs' && k !== 'status' && v !== null)).toEqual([]);
  });
  test('peak ignores samples that lack the value, and is null when none has it', () => {
    const samples = [
      toProgressSample(progress({ iteration: 1 }), 1),
      statusSample(2, 'running'),
      toProgressSample(progress({ iteration: 4 }), 3),
      toProgressSample(progress({ iteration: 3 }), 4),
    ];
    expect(peak(samples, 'iteration')).toBe(4);
    expect(peak([statusSample(1, 'running')], 'bandwidthMbps')).toBeNull();
  });
});
