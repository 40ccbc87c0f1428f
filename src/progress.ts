// One progress sample of a running migration, as stored in the record's timeline.
import type { ProgressSample } from './generated/results.js';
import type { MigrationProgress } from './qemu/translate.js';

export function toProgressSample(progress: MigrationProgress, tMs: number): ProgressSample {
  return {
    tMs: Math.round(tMs * 1000) / 1000,
    status: progress.status,
    transferredBytes: progress.transferredBytes,
    remainingBytes: progress.remainingBytes,
    totalBytes: progress.totalBytes,
    dirtyRatePagesPerSec: progress.dirtyRatePagesPerSec,
    bandwidthMbps: progress.bandwidthMbps,
    iteration: progress.iteration,
    expectedDowntimeMs: progress.expectedDowntimeMs,
  };
}

/** A sample from a hypervisor that reports a task's state but no migration counters. */
export function statusSample(tMs: number, status: string): ProgressSample {
  return { tMs: Math.round(tMs * 1000) / 1000, status, transferredBytes: null, remainingBytes: null, totalBytes: null, dirtyRatePagesPerSec: null, bandwidthMbps: null, iteration: null, expectedDowntimeMs: null };
}

/** Largest value a series reached, ignoring samples that lack it. */
export function peak(samples: readonly ProgressSample[], key: 'dirtyRatePagesPerSec' | 'bandwidthMbps' | 'iteration'): number | null {
  let best: number | null = null;
  for (const s of samples) {
    const v = s[key];
    if (v !== null && (best === null || v > best)) best = v;
  }
  return best;
}
