// What a suite's worker sends `migbench run` besides vitest's own reports, as test
// artifacts (see handOver in suite.ts for why not the task meta): each measured record,
// and, for a terminal's progress bar, where the running migration is.
import type { MigrationRecord } from '../generated/results.js';
import type { LiveProgress } from '../model/progress.js';

export const RECORD_ARTIFACT = 'migbench:record';
export const PROGRESS_ARTIFACT = 'migbench:progress';

export interface RecordArtifact {
  readonly type: typeof RECORD_ARTIFACT;
  readonly record: MigrationRecord;
}

export interface ProgressArtifact {
  readonly type: typeof PROGRESS_ARTIFACT;
  readonly progress: LiveProgress;
}

declare module '@vitest/runner' {
  interface TestArtifactRegistry {
    [RECORD_ARTIFACT]: RecordArtifact;
    [PROGRESS_ARTIFACT]: ProgressArtifact;
  }
}

/** Progress reports worth sending: every new phase, and the share done at most once per interval. */
export function throttleProgress(send: (live: LiveProgress) => void, intervalMs: number, now: () => number = () => performance.now()): (live: LiveProgress) => void {
  let last: { phase: string; atMs: number } | null = null;
  return (live) => {
    const t = now();
    if (last && last.phase === live.phase && t - last.atMs < intervalMs) return;
    last = { phase: live.phase, atMs: t };
    send(live);
  };
}
