// `migbench run` / `migbench start`: runs the suites under vitest, writes results.json
// as records arrive, then renders the table from the file it wrote.
import { rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { startVitest } from 'vitest/node';
import { compareResults, comparisonExitCode, type Comparison } from '../analysis/comparison.js';
import { loadConfig } from '../config/load.js';
import { defaultSuitesConfig, findConfig } from '../config/find.js';
import { assertCredentials } from '../config/credentials.js';
import { matrixNames, resolveMatrix, resolveScenarios, suiteNames } from '../config/scenarios.js';
import { isLabTarget, needsLabLibvirt } from '../config/targets.js';
import { compareOptions } from '../config/compare.js';
import { shardScenarios } from '../config/shard.js';
import { compareMarkdown } from '../render/comparison.js';
import { progressBar, progressLine } from '../render/progress.js';
import type { StatusLine } from './terminal.js';
import { renderHtmlReport } from '../render/html.js';
import { errorMessage, runCleanups, UsageError } from '../model/errors.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { acquireLabLock } from '../lab/lock.js';
import { ownModule, pathExists } from '../model/paths.js';
import { EXIT, runExitCode } from '../model/exit.js';
import { resultsMarkdown, teardownWarning } from '../render/table.js';
import { readResults, ResultsWriter } from '../model/results.js';
import { ResultsReporter } from '../vitest/reporter.js';
import type { MigbenchRunContext } from '../vitest/suite.js';
import type { MigbenchConfig } from '../generated/config.js';
import type { ResultsFile } from '../generated/results.js';
import type { Scenario } from '../model/scenario.js';
import type { RunOptions } from './args.js';
import { resultsDirFor } from './out.js';
import { escapeRegExp } from '../model/text.js';

export interface RunSummary {
  /** model/exit.ts: 0 passed, 1 failed, 2 bad input, 3 infrastructure; 128 + n stopped by signal n. */
  readonly exitCode: number;
  readonly resultsPath: string;
  readonly markdownPath: string;
  readonly records: number;
}

export interface Io {
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
  /** The table (stdout). */
  readonly out: (text: string) => void;
  /** A status line at the bottom of a terminal, where there is one (a progress bar). */
  readonly statusLine?: () => StatusLine | null;
}

/**
 * How migbench runs suites under vitest: the given files only, one at a time, no config
 * file of vitest's own. The suites may live anywhere (the user's repository, or inside
 * the installed package); `migbench/vitest` resolves to the code running this, so the
 * suites and the runner share one migbench whatever the suite's folder has installed.
 */
function suiteRunOptions(files: readonly string[], reporter: ResultsReporter, migbench: MigbenchRunContext, extra: { junit?: string; quiet?: boolean; bar?: boolean }) {
  return {
    root: process.cwd(),
    config: false as const,
    watch: false,
    include: [...files],
    exclude: [],
    setupFiles: [ownModule('vitest/setup')],
    alias: { 'migbench/vitest': ownModule('vitest/index') },
    // Beside migbench's progress bar, vitest's own live summary would fight it for the bottom line.
    reporters: [
      ...(extra.quiet ? [] : [['default', { summary: !extra.bar }] as ['default', { summary: boolean }]]),
      reporter,
      ...(extra.junit ? [['junit', { outputFile: extra.junit }] as ['junit', { outputFile: string }]] : []),
    ],
    provide: { migbench },
    fileParallelism: false,
    pool: 'forks' as const,
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    // Failed assertions carry their line, for the Action's annotations.
    includeTaskLocation: true,
  };
}

/** The run's results directory: --out, or a dated sibling when --out holds an earlier run's results. */
async function outputDir(options: RunOptions, io: Io): Promise<string> {
  const { dir, note } = await resultsDirFor(isAbsolute(options.out) ? options.out : resolve(options.out), Boolean(options.force));
  if (note) io.log(note);
  return dir;
}

export async function runSuites(command: RunOptions, io: Io, start = false): Promise<RunSummary> {
  const options = { ...command, config: start && command.config === undefined ? defaultSuitesConfig() : findConfig(command.config) };
  if (options.ab) return runAb(options, options.ab, io);
  const configPath = isAbsolute(options.config) ? options.config : resolve(options.config);
  const loaded = await loadConfig(configPath);
  const suites = selectedSuites(options, loaded.config);
  const files = await suiteFiles(configPath, suites, options.matrices);
  const selected = selectScenarios(options, loaded.config, suites, io);
  const names = options.shard || options.scenarios.length ? [...new Set(selected.map((s) => s.name))] : [];
  const outDir = await outputDir(options, io);
  const source = { path: relative(process.cwd(), configPath) || configPath, sha256: loaded.sha256 };
  if ((options.shard || options.scenarios.length) && !names.length) {
    const empty = await ResultsWriter.create(outDir, source);
    return { exitCode: 0, resultsPath: empty.path, markdownPath: '', records: 0 };
  }

  // Bring the lab up when a selected scenario runs there, and take down only what we started.
  // Credentials of the targets this run uses, checked before anything connects.
  const targets = selected.map((s) => s.target);
  assertCredentials(loaded, targets);
  return withLab(loaded.config, targets, `migbench run, results to ${outDir}`, io, async (startedLab) => {
    const writer = await ResultsWriter.create(outDir, source);
    const reporter = new ResultsReporter(writer);
    const progress = reportProgress(reporter, options.quiet ? 0 : plannedRuns(selected, options.repeat), io);
    const { failed, signal } = await runUnderVitest(
      {
        files,
        context: { configPath, matrices: [...options.matrices], ...(options.repeat !== undefined && { repeat: options.repeat }), ...progress.context },
        // Whole names only: "idle-256" must not select "storage-idle-256".
        ...(names.length && { testNamePattern: `(?:^|\\s)(?:${names.map(escapeRegExp).join('|')}) #\\d+$` }),
        ...outputOptions(options),
      },
      { reporter, outDir, takeLabDown: startedLab && !options.keepLab, progress },
      io,
    );
    const { results, markdownPath } = await writeRunReports(
      outDir,
      writer.path,
      reporter,
      selected.some((s) => isLabTarget(loaded.config, s.target)),
      io,
    );
    // The tests decide: a cancelled non-converging matrix scenario is a result, not a failure.
    const status = results.records.length === 0 ? EXIT.failed : runExitCode(failed, results.records);
    if (signal) io.log(`migbench: stopped by ${signal}; ${results.records.length} records kept in ${relative(process.cwd(), writer.path) || writer.path}`);
    return { exitCode: signal ? signalExitCode(signal) : status, resultsPath: writer.path, markdownPath, records: results.records.length };
  });
}

/** The suites to run: those named, else (unless matrices are named) all of the config's; every name checked. */
function selectedSuites(options: RunOptions & { config: string }, config: MigbenchConfig): string[] {
  const known = suiteNames(config);
  const knownMatrices = matrixNames(config);
  for (const matrix of options.matrices) {
    if (!knownMatrices.includes(matrix)) throw new UsageError(`no matrix "${matrix}" in ${options.config} (it has: ${knownMatrices.join(', ') || 'none'})`);
  }
  // --matrix runs the matrix alone unless suites are asked for too.
  const suites = options.suites.length ? [...options.suites] : options.matrices.length ? [] : known;
  for (const suite of suites) {
    if (!known.includes(suite)) throw new UsageError(`no suite "${suite}" in ${options.config} (it has: ${known.join(', ')})`);
  }
  return suites;
}

/**
 * The test files of the suites, and the matrix suite's when matrices run. A suite's file is
 * `<suite>.test.ts` (or .mts, .js, .mjs) beside the config, else in a suites/ folder beside
 * it, else migbench's own suite of that name (memory-migration, storage-migration).
 */
async function suiteFiles(configPath: string, suites: readonly string[], matrices: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const suite of suites) files.push(await suiteFile(configPath, suite));
  if (matrices.length) files.push(ownModule('vitest/matrix.suite'));
  return files;
}

const SUITE_EXTENSIONS = ['.test.ts', '.test.mts', '.test.js', '.test.mjs'];

async function suiteFile(configPath: string, suite: string): Promise<string> {
  const dirs = [dirname(configPath), join(dirname(configPath), 'suites'), dirname(defaultSuitesConfig())];
  for (const file of dirs.flatMap((dir) => SUITE_EXTENSIONS.map((ext) => join(dir, `${suite}${ext}`)))) {
    if (await pathExists(file)) return file;
  }
  const shown = dirs.slice(0, 2).map((d) => relative(process.cwd(), d) || '.');
  throw new UsageError(
    `suite "${suite}" is in ${relative(process.cwd(), configPath) || configPath} but has no test file: looked for ${suite}.test.ts in ${shown.join(' and ')}, and migbench has no suite of that name`,
  );
}

/** The scenarios of the suites and matrices, narrowed to those named and then to this shard. */
function selectScenarios(options: RunOptions, config: MigbenchConfig, suites: readonly string[], io: Io): Scenario[] {
  const scenarios = [...suites.flatMap((s) => resolveScenarios(config, s)), ...options.matrices.flatMap((m) => resolveMatrix(config, m).map((p) => p.resolved))];
  for (const name of options.scenarios) {
    if (!scenarios.some((s) => s.name === name)) throw new UsageError(`no scenario "${name}" in the suites selected (${[...suites, ...options.matrices].join(', ')})`);
  }
  const selected = options.scenarios.length ? scenarios.filter((s) => options.scenarios.includes(s.name)) : scenarios;
  if (!options.shard) return selected;
  const mine = new Set(
    shardScenarios(
      selected.map((s) => s.name),
      options.shard,
    ),
  );
  io.log(`shard ${options.shard.index}/${options.shard.total}: ${[...mine].join(', ') || 'no scenarios'}`);
  return selected.filter((s) => mine.has(s.name));
}

/** failures.json, results.md and results.html beside results.json; the table on stdout. */
async function writeRunReports(outDir: string, resultsPath: string, reporter: ResultsReporter, onLab: boolean, io: Io): Promise<{ results: ResultsFile; markdownPath: string }> {
  await writeFailures(outDir, reporter);
  const results = await readResults(resultsPath);
  const markdown = resultsMarkdown(results);
  const markdownPath = join(outDir, 'results.md');
  await writeFile(markdownPath, markdown);
  await writeFile(join(outDir, 'results.html'), renderHtmlReport(results));
  io.out(`\n${markdown}`);
  io.out(
    `Results: ${relative(process.cwd(), resultsPath) || resultsPath} (${results.records.length} records), table: ${relative(process.cwd(), markdownPath) || markdownPath}, charts: ${relative(process.cwd(), join(outDir, 'results.html'))}\n`,
  );
  const warning = teardownWarning(results, onLab);
  if (warning) io.log(warning);
  return { results, markdownPath };
}

/**
 * `migbench run --ab BASE HEAD`: the suites both configs define, base and head run by run
 * on the same hosts; records go to <out>/base and <out>/head, then they are compared.
 */
async function runAb(options: RunOptions, ab: { base: string; head: string }, io: Io): Promise<RunSummary> {
  const paths = { base: resolve(ab.base), head: resolve(ab.head) };
  const [base, head] = [await loadConfig(paths.base), await loadConfig(paths.head)];
  const { suites, scenarios } = commonScenarios(options, base.config, head.config);
  const targets = scenarios.map((s) => s.target);
  for (const config of [base, head]) assertCredentials(config, targets);
  const outDir = await outputDir(options, io);
  return withLab(head.config, targets, `migbench run --ab, results to ${outDir}`, io, async (startedLab) => {
    const writers = {
      base: await ResultsWriter.create(join(outDir, 'base'), { path: relative(process.cwd(), paths.base) || paths.base, sha256: base.sha256 }),
      head: await ResultsWriter.create(join(outDir, 'head'), { path: relative(process.cwd(), paths.head) || paths.head, sha256: head.sha256 }),
    };
    const reporter = new ResultsReporter((record) => writers[record.variant ?? 'head']);
    const progress = reportProgress(reporter, options.quiet ? 0 : 2 * plannedRuns(scenarios, options.repeat), io);
    const { failed, signal } = await runUnderVitest(
      {
        files: [ownModule('vitest/ab.suite')],
        ...outputOptions(options),
        context: {
          configPath: paths.head,
          ab: { ...paths, suites, scenarios: [...options.scenarios] },
          ...(options.repeat !== undefined && { repeat: options.repeat }),
          ...progress.context,
        },
      },
      { reporter, outDir, takeLabDown: startedLab && !options.keepLab, progress },
      io,
    );
    await writeFailures(outDir, reporter);
    const { comparison, baseResults, headResults } = await writeAbReports(outDir, ab, { base: writers.base.path, head: writers.head.path }, head.config, io);
    const onLab = scenarios.some((s) => isLabTarget(head.config, s.target));
    for (const warning of [teardownWarning(baseResults, onLab), teardownWarning(headResults, onLab)]) if (warning) io.log(warning);
    const measured = runExitCode(failed, [...baseResults.records, ...headResults.records]);
    const exitCode = signal
      ? signalExitCode(signal)
      : measured !== EXIT.ok
        ? measured
        : !baseResults.records.length || !headResults.records.length
          ? EXIT.failed
          : comparisonExitCode(comparison);
    return { exitCode, resultsPath: writers.head.path, markdownPath: join(outDir, 'compare.md'), records: baseResults.records.length + headResults.records.length };
  });
}

/** The suites both configs define (or those named), and their scenarios of the same name in both. */
function commonScenarios(options: RunOptions, base: MigbenchConfig, head: MigbenchConfig): { suites: string[]; scenarios: Scenario[] } {
  const common = suiteNames(base).filter((s) => suiteNames(head).includes(s));
  const suites = options.suites.length ? [...options.suites] : common;
  for (const suite of suites) {
    if (!common.includes(suite)) throw new UsageError(`suite "${suite}" is not in both configs (both have: ${common.join(', ') || 'none'})`);
  }
  const scenarios = suites.flatMap((s) => resolveScenarios(base, s).filter((b) => resolveScenarios(head, s).some((h) => h.name === b.name)));
  for (const name of options.scenarios) {
    if (!scenarios.some((s) => s.name === name)) throw new UsageError(`no scenario "${name}" in both configs' suites (${suites.join(', ')})`);
  }
  if (!scenarios.length) throw new UsageError('the two configs share no scenario: A/B compares scenarios of the same name');
  return { suites, scenarios };
}

/** Compares head with base under the head config's compare section; compare.md, .json and .html in outDir, the summary on stdout. */
async function writeAbReports(
  outDir: string,
  ab: { base: string; head: string },
  resultsPaths: { base: string; head: string },
  config: MigbenchConfig,
  io: Io,
): Promise<{ comparison: Comparison; baseResults: ResultsFile; headResults: ResultsFile }> {
  const [baseResults, headResults] = [await readResults(resultsPaths.base), await readResults(resultsPaths.head)];
  const comparison = compareResults(baseResults, headResults, compareOptions(config));
  const markdown = compareMarkdown(comparison, { baseLabel: ab.base, headLabel: ab.head, fullReport: join(outDir, 'compare.md') });
  await writeFile(join(outDir, 'compare.md'), compareMarkdown(comparison, { baseLabel: ab.base, headLabel: ab.head, limit: Number.MAX_SAFE_INTEGER }));
  await writeFile(join(outDir, 'compare.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  await writeFile(join(outDir, 'compare.html'), renderHtmlReport(headResults, { base: baseResults, title: `migbench: ${ab.base} vs ${ab.head}` }));
  io.out(`\n${markdown}`);
  io.out(
    `Results: ${relative(process.cwd(), resultsPaths.base)} and ${relative(process.cwd(), resultsPaths.head)}; comparison: ${relative(process.cwd(), join(outDir, 'compare.md'))}\n`,
  );
  return { comparison, baseResults, headResults };
}

async function writeFailures(outDir: string, reporter: ResultsReporter): Promise<void> {
  await writeFile(join(outDir, 'failures.json'), `${JSON.stringify(reporter.failures, null, 2)}\n`);
}

interface VitestRun {
  readonly files: readonly string[];
  /** What the suites are told, less the stop file, which this run owns. */
  readonly context: Omit<MigbenchRunContext, 'stopFile'>;
  readonly testNamePattern?: string;
  readonly junit?: string;
  readonly quiet?: boolean;
}

/**
 * Runs suite files under vitest, stopping on SIGINT/SIGTERM as stopOnSignals says, and takes
 * down the lab afterwards when asked to; says whether anything failed and which signal came.
 */
async function runUnderVitest(
  run: VitestRun,
  via: { reporter: ResultsReporter; outDir: string; takeLabDown: boolean; progress: RunProgress },
  io: Io,
): Promise<{ failed: number; signal: NodeJS.Signals | undefined }> {
  const { reporter } = via;
  // Counted as one failure until vitest says otherwise: a run that never started failed.
  let failed = 1;
  const stopFile = join(via.outDir, '.migbench-stop');
  const signals = stopOnSignals(reporter, io, stopFile);
  try {
    const vitest = await startVitest(
      'test',
      [...run.files],
      {
        ...suiteRunOptions(run.files, reporter, { ...run.context, stopFile }, { ...run, ...(run.context.liveProgress && { bar: true }) }),
        ...(run.testNamePattern !== undefined && { testNamePattern: run.testNamePattern }),
      },
      {},
      {},
    );
    failed = vitest.state.getCountOfFailedTests() + vitest.state.getUnhandledErrors().length + reporter.errors.length;
    for (const error of reporter.errors) io.log(`migbench: could not write a record: ${errorMessage(error)}`);
    await vitest.close();
  } finally {
    via.progress.close();
    signals.remove();
    await runCleanups(via.takeLabDown ? [['lab down', () => labDown({ log: io.log })]] : []);
    // vitest sets process.exitCode itself; migbench decides its own.
    process.exitCode = undefined;
  }
  return { failed, signal: signals.received };
}

/**
 * SIGINT/SIGTERM during a run: the scenario that is running finishes (its migration ends or
 * times out, its guest is torn down, its record written) and the rest are skipped; the
 * results and reports are written as usual. A second signal stops at once, and what that
 * leaves behind on the lab goes with `migbench lab down`.
 */
function stopOnSignals(reporter: ResultsReporter, io: Io, stopFile: string): { received: NodeJS.Signals | undefined; remove(): void } {
  rmSync(stopFile, { force: true });
  const state: { received: NodeJS.Signals | undefined; remove(): void } = {
    received: undefined,
    remove: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      rmSync(stopFile, { force: true });
    },
  };
  function onSignal(signal: NodeJS.Signals) {
    if (!state.received) {
      state.received = signal;
      io.log(`migbench: ${signal}: finishing the running scenario and skipping the rest (${signal} again to stop at once)`);
      // The suites' worker sees the file before each scenario (vitest's own cancel would
      // abandon the running one mid-migration).
      writeFileSync(stopFile, `${signal}\n`);
    } else {
      io.log(`migbench: ${signal} again: stopping now; \`migbench lab down\` removes what is left on the lab`);
      void reporter.vitest?.close();
    }
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // vitest's logger exits the process on SIGINT/SIGTERM, which would orphan the worker in
  // the middle of a migration: once vitest is set up, the signals are migbench's alone.
  reporter.whenInit = () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const listener of process.listeners(signal)) if (listener !== onSignal) process.removeListener(signal, listener);
    }
  };
  return state;
}

/** How the run reports besides results.json: JUnit XML, and whether quietly. */
function outputOptions(options: RunOptions): { junit?: string; quiet?: boolean } {
  return { ...(options.junit !== undefined && { junit: resolve(options.junit) }), ...(options.quiet && { quiet: true }) };
}

/** Every scenario × its repetitions (or --repeat). */
function plannedRuns(scenarios: readonly Scenario[], repeat: number | undefined): number {
  return scenarios.reduce((sum, s) => sum + (repeat ?? s.repeat), 0);
}

/** How a run shows its progress: what the suites are asked to send, and what to close at the end. */
interface RunProgress {
  readonly context: { readonly liveProgress?: boolean };
  close(): void;
}

/**
 * One progress line per record written, with the ETA from the mean wall time so far; on
 * a terminal, a status line below them for the migration running now. Nothing for a
 * quiet run (nothing planned to show).
 */
function reportProgress(reporter: ResultsReporter, planned: number, io: Io): RunProgress {
  if (planned === 0) return { context: {}, close: () => undefined };
  const started = performance.now();
  let done = 0;
  const state = () => ({ planned, done, elapsedMs: performance.now() - started });
  const status = io.statusLine?.() ?? null;
  reporter.whenWritten = (record, testName) => {
    done += 1;
    status?.set(null);
    io.log(progressLine(record, testName, state()));
  };
  if (!status) return { context: {}, close: () => undefined };
  reporter.whenProgress = (live, testName) => status.set(progressBar(live, testName, state(), process.stderr.columns || 80));
  return { context: { liveProgress: true }, close: () => status.close() };
}

/** The shell's convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 15);
}

/**
 * Runs `body` holding the lab when a scenario runs there (one run at a time: lab/lock.ts),
 * with the lab up; the lock is released whatever happens, after the body took the lab down.
 */
async function withLab<T>(config: MigbenchConfig, targets: readonly string[], what: string, io: Io, body: (startedLab: boolean) => Promise<T>): Promise<T> {
  if (!targets.some((t) => isLabTarget(config, t))) return body(false);
  const lock = await acquireLabLock({ what, log: io.log });
  try {
    return await body(await ensureLab(config, targets, io));
  } finally {
    await lock.release();
  }
}

/**
 * Brings the lab up (with libvirtd when a target drives it through libvirt), or resets one
 * a crashed run left dirty; says whether this run started it, so only then is it taken down.
 */
async function ensureLab(config: MigbenchConfig, targets: readonly string[], io: Io): Promise<boolean> {
  const withLibvirt = targets.some((t) => needsLabLibvirt(config, t));
  const status = await labStatus({ checkSsh: true });
  if (status.up && (!withLibvirt || status.state?.libvirt) && !status.leftovers.length) return false;
  await labUp({ log: io.log, withLibvirt });
  // A lab that was only slow to answer was someone's already: not ours to take down.
  return !status.up && !status.unresponsive;
}
