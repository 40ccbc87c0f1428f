// A vitest reporter that appends each migration record to results.json the moment the
// worker hands it over (before the test's assertions run), so nothing measured is lost
// to a later crash or kill.
import type { TestArtifact } from 'vitest';
import type { Reporter, TestCase, Vitest } from 'vitest/node';
import type { MigrationRecord } from '../generated/results.js';
import type { ResultsWriter } from '../model/results.js';
import { PROGRESS_ARTIFACT, RECORD_ARTIFACT, type ProgressArtifact, type RecordArtifact } from './artifact.js';
import type { LiveProgress } from '../model/progress.js';

/** A test that failed, where it is: what the Action turns into an annotation. */
export interface FailedAssertion {
  /** Relative to the project root. */
  readonly file: string;
  readonly line: number | null;
  readonly test: string;
  readonly message: string;
}

export class ResultsReporter implements Reporter {
  private readonly pending: Promise<void>[] = [];
  readonly errors: Error[] = [];
  readonly failures: FailedAssertion[] = [];

  /** The running vitest, so a second signal can close it. */
  vitest: Vitest | undefined;
  /** Called once vitest is set up (migbench takes the signals back from it then). */
  whenInit: (() => void) | undefined;
  /** Called with each record once it is in results.json (the progress line). */
  whenWritten: ((record: MigrationRecord, testName: string) => void) | undefined;

  /** Called with where a running migration is (the terminal's progress bar). */
  whenProgress: ((live: LiveProgress, testName: string) => void) | undefined;

  /** One results file, or one per A/B variant chosen from the record. */
  constructor(private readonly writer: ResultsWriter | ((record: MigrationRecord) => ResultsWriter)) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    this.whenInit?.();
  }

  /** vitest awaits this before the worker's handOver() returns: the record is on disk then. */
  onTestCaseArtifactRecord(testCase: TestCase, artifact: TestArtifact): Promise<void> {
    if (artifact.type === PROGRESS_ARTIFACT) {
      this.whenProgress?.((artifact as ProgressArtifact).progress, testCase.fullName);
      return Promise.resolve();
    }
    if (artifact.type !== RECORD_ARTIFACT) return Promise.resolve();
    const { record } = artifact as RecordArtifact;
    const writer = typeof this.writer === 'function' ? this.writer(record) : this.writer;
    const write = writer
      .append({ ...record, test: testCase.fullName })
      .then(() => this.whenWritten?.(record, testCase.fullName))
      .catch((error: Error) => {
        this.errors.push(error);
      });
    this.pending.push(write);
    return write;
  }

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.result();
    if (result.state === 'failed') {
      const error = result.errors?.[0];
      const file = testCase.module.relativeModuleId;
      // The failing expect's line when the stack reaches the suite file; else the test's.
      const frame = error?.stacks?.find((s) => s.file.endsWith(`/${file}`) || s.file === file);
      this.failures.push({
        file,
        line: frame?.line ?? testCase.location?.line ?? null,
        test: testCase.fullName,
        message: failureMessage(error?.message),
      });
    }
  }

  async onTestRunEnd(): Promise<void> {
    await Promise.all(this.pending);
  }
}

/** A failure message on one line: threshold failures put their figures on the lines after a header. */
export function failureMessage(message: string | undefined): string {
  const text = (message ?? 'failed')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ');
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}
