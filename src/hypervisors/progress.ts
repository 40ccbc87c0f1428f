// One progress sample of a running migration, as stored in the record's timeline.
import type { ProgressSample } from '../generated/results.js';

/** A running migration's progress in migbench's units, whatever the hypervisor reports. */
export interface MigrationProgress {
  readonly status: string;
  readonly totalTimeMs: number | null;
  readonly downtimeMs: number | null;
  readonly expectedDowntimeMs: number | null;
  readonly setupTimeMs: number | null;
  readonly transferredBytes: number | null;
  readonly remainingBytes: number | null;
  readonly totalBytes: number | null;
  readonly duplicatePages: number | null;
  readonly normalPages: number | null;
  readonly normalBytes: number | null;
  readonly dirtyRatePagesPerSec: number | null;
  readonly bandwidthMbps: number | null;
  readonly iteration: number | null;
  readonly pageSizeBytes: number | null;
  readonly precopyBytes: number | null;
  readonly downtimeBytes: number | null;
  readonly postcopyBytes: number | null;
  readonly multifdBytes: number | null;
  readonly cpuThrottlePercent: number | null;
  readonly errorDescription: string | null;
}

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

/** The progress of a hypervisor that reports a task's state but no migration counters. */
export function statusProgress(status: string): MigrationProgress {
  return {
    status,
    totalTimeMs: null,
    downtimeMs: null,
    expectedDowntimeMs: null,
    setupTimeMs: null,
    transferredBytes: null,
    remainingBytes: null,
    totalBytes: null,
    duplicatePages: null,
    normalPages: null,
    normalBytes: null,
    dirtyRatePagesPerSec: null,
    bandwidthMbps: null,
    iteration: null,
    pageSizeBytes: null,
    precopyBytes: null,
    downtimeBytes: null,
    postcopyBytes: null,
    multifdBytes: null,
    cpuThrottlePercent: null,
    errorDescription: null,
  };
}

/** A sample from a hypervisor that reports a task's state but no migration counters. */
export function statusSample(tMs: number, status: string): ProgressSample {
  return toProgressSample(statusProgress(status), tMs);
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
