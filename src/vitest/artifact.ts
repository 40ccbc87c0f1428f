// The one thing a suite's worker sends `migbench run` besides vitest's own reports: each
// measured record, as a test artifact (see handOver in suite.ts for why not the task meta).
import type { MigrationRecord } from '../generated/results.js';

export const RECORD_ARTIFACT = 'migbench:record';

export interface RecordArtifact {
  readonly type: typeof RECORD_ARTIFACT;
  readonly record: MigrationRecord;
}

declare module '@vitest/runner' {
  interface TestArtifactRegistry {
    [RECORD_ARTIFACT]: RecordArtifact;
  }
}
