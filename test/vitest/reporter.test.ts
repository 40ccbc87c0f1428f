import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { startVitest } from 'vitest/node';
import { projectPath } from '../../src/model/paths.js';
import { readResults, ResultsWriter } from '../../src/model/results.js';
import { failureMessage, ResultsReporter } from '../../src/vitest/reporter.js';

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

describe(ResultsReporter, () => {
  // A real vitest run of a two-test file whose first test hands a recorded measurement
  // over and then notes what results.json holds while that test is still running. The
  // record must be on disk by then: a record that waits for its test to be reported can
  // arrive only with the next one, and a runner killed in between loses it.
  test('writes a handed-over record to results.json before its test ends', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-reporter-'));
    const record = (await readResults(projectPath('fixtures/results/lab-tcg.json'))).records[0]!;
    const writer = await ResultsWriter.create(dir, { path: 'suite.yaml', sha256: 'a'.repeat(64) });
    await writeFile(join(dir, 'record.json'), JSON.stringify(record));
    await writeFile(
      join(dir, 'handover.test.ts'),
      `import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'vitest';
import { handOver } from ${JSON.stringify(projectPath('src/vitest/suite.ts'))};
const dir = ${JSON.stringify(dir)};
test('measures', async ({ task }) => {
  await handOver(task, JSON.parse(readFileSync(dir + '/record.json', 'utf8')));
  const onDisk = JSON.parse(readFileSync(dir + '/results.json', 'utf8')).records.length;
  writeFileSync(dir + '/seen', String(onDisk));
});
test('the next scenario', async () => {
  await new Promise((resolve) => setTimeout(resolve, 200));
});
`,
    );
    const reporter = new ResultsReporter(writer);
    const exitCode = process.exitCode;
    const vitest = await startVitest('test', [], { root: dir, config: false, watch: false, include: ['handover.test.ts'], reporters: [reporter] });
    await vitest.close();
    // The inner run sets the exit code of this worker; its outcome is asserted below instead.
    process.exitCode = exitCode;
    expect(reporter.errors).toEqual([]);
    expect(await readFile(join(dir, 'seen'), 'utf8')).toBe('1');
    const written = await readResults(join(dir, 'results.json'));
    expect(written.records.map((r) => [r.id, r.test])).toEqual([[record.id, 'measures']]);
  });
});
