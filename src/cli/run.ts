// `migbench run` / `migbench start`: runs the suites under vitest, writes results.json
// as records arrive, then renders the table from the file it wrote.
import { access, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { startVitest } from 'vitest/node';
import { LAB_TARGET, loadConfig, matrixNames, resolveMatrix, resolveScenarios, suiteNames } from '../config.js';
import { errorMessage, runCleanups, UsageError } from '../errors.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { projectPath, PROJECT_ROOT } from '../paths.js';
import { resultsMarkdown } from '../report/table.js';
import { readResults, ResultsWriter } from '../results.js';
import { ResultsReporter } from '../vitest/reporter.js';
import type { RunOptions } from './args.js';

export interface RunSummary {
  readonly exitCode: 0 | 1 | 2;
  readonly resultsPath: string;
  readonly markdownPath: string;
  readonly records: number;
}

export interface Io {
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
  /** The table (stdout). */
  readonly out: (text: string) => void;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function runSuites(options: RunOptions, io: Io): Promise<RunSummary> {
  const configPath = isAbsolute(options.config) ? options.config : resolve(options.config);
  const loaded = await loadConfig(configPath);
  const known = suiteNames(loaded.config);
  const knownMatrices = matrixNames(loaded.config);
  for (const matrix of options.matrices) {
    if (!knownMatrices.includes(matrix)) throw new UsageError(`no matrix "${matrix}" in ${options.config} (it has: ${knownMatrices.join(', ') || 'none'})`);
  }
  // --matrix runs the matrix alone unless suites are asked for too.
  const suites = options.suites.length ? [...options.suites] : options.matrices.length ? [] : known;
  for (const suite of suites) {
    if (!known.includes(suite)) throw new UsageError(`no suite "${suite}" in ${options.config} (it has: ${known.join(', ')})`);
  }
  const files: string[] = [];
  for (const suite of suites) {
    const file = projectPath('suites', `${suite}.test.ts`);
    try {
      await access(file);
    } catch {
      throw new UsageError(`suite "${suite}" is in the config but has no test file suites/${suite}.test.ts`);
    }
    files.push(file);
  }
  if (options.matrices.length) files.push(projectPath('suites', 'matrix.test.ts'));
  const scenarios = [...suites.flatMap((s) => resolveScenarios(loaded.config, s)), ...options.matrices.flatMap((m) => resolveMatrix(loaded.config, m).map((p) => p.resolved))];
  for (const name of options.scenarios) {
    if (!scenarios.some((s) => s.name === name)) throw new UsageError(`no scenario "${name}" in the suites selected (${[...suites, ...options.matrices].join(', ')})`);
  }
  const selected = options.scenarios.length ? scenarios.filter((s) => options.scenarios.includes(s.name)) : scenarios;

  // Bring the lab up when a selected scenario runs there, and take down only what we started.
  let startedLab = false;
  const needsLab = selected.some((s) => s.target === LAB_TARGET || loaded.config.targets?.[s.target]?.lab);
  if (needsLab && !(await labStatus({ checkSsh: true })).up) {
    await labUp({ log: io.log });
    startedLab = true;
  }

  const outDir = isAbsolute(options.out) ? options.out : resolve(options.out);
  const writer = await ResultsWriter.create(outDir, { path: relative(process.cwd(), configPath) || configPath, sha256: loaded.sha256 });
  const reporter = new ResultsReporter(writer);
  let failed = true;
  let stopping: (() => void) | undefined;
  try {
    const vitest = await startVitest(
      'test',
      files,
      {
        root: PROJECT_ROOT,
        config: false,
        watch: false,
        include: ['suites/**/*.test.ts'],
        setupFiles: [projectPath('src/vitest/setup.ts')],
        reporters: ['default', reporter],
        provide: { migbench: { configPath, matrices: [...options.matrices], ...(options.repeat !== undefined && { repeat: options.repeat }) } },
        fileParallelism: false,
        pool: 'forks',
        testTimeout: 3_600_000,
        hookTimeout: 600_000,
        // Whole names only: "idle-256" must not select "storage-idle-256".
        ...(options.scenarios.length && { testNamePattern: `(?:^|\\s)(?:${options.scenarios.map(escapeRegExp).join('|')}) #\\d+$` }),
      },
      {},
      {},
    );
    const onSignal = () => void vitest.close();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    stopping = () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    };
    failed = vitest.state.getCountOfFailedTests() > 0 || vitest.state.getUnhandledErrors().length > 0 || reporter.errors.length > 0;
    for (const error of reporter.errors) io.log(`migbench: could not write a record: ${errorMessage(error)}`);
    await vitest.close();
  } finally {
    stopping?.();
    await runCleanups(startedLab && !options.keepLab ? [['lab down', () => labDown({ log: io.log })]] : []);
    // vitest sets process.exitCode itself; migbench decides its own.
    process.exitCode = undefined;
  }

  const results = await readResults(writer.path);
  const markdown = resultsMarkdown(results);
  const markdownPath = join(outDir, 'results.md');
  await writeFile(markdownPath, markdown);
  io.out(`\n${markdown}`);
  io.out(`Results: ${relative(process.cwd(), writer.path) || writer.path} (${results.records.length} records), table: ${relative(process.cwd(), markdownPath) || markdownPath}\n`);
  // The tests decide: a cancelled non-converging matrix scenario is a result, not a failure.
  const anyFailed = failed || results.records.length === 0;
  return { exitCode: anyFailed ? 1 : 0, resultsPath: writer.path, markdownPath, records: results.records.length };
}
