// A vitest reporter that appends each test's migration record to results.json as
// soon as the test ends (pass or fail), so nothing measured is lost to a later crash.
import type { Reporter, TestCase } from 'vitest/node';
import type { ResultsWriter } from '../results.js';

export class ResultsReporter implements Reporter {
  private readonly pending: Promise<void>[] = [];
  readonly errors: Error[] = [];

  constructor(private readonly writer: ResultsWriter) {}

  onTestCaseResult(testCase: TestCase): Promise<void> {
    const record = testCase.meta().migbench;
    if (!record) return Promise.resolve();
    const write = this.writer.append({ ...record, test: testCase.fullName }).catch((error: Error) => {
      this.errors.push(error);
    });
    this.pending.push(write);
    return write;
  }

  async onTestRunEnd(): Promise<void> {
    await Promise.all(this.pending);
  }
}
