// `migbench run` / `migbench start`: runs the suites under vitest, writes results.json
// as records arrive, then renders the table from the file it wrote.
import { rmSync, writeFileSync } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { startVitest } from 'vitest/node';
import { compareResults, comparisonExitCode } from '../analysis/comparison.js';
import { loadConfig } from '../config/load.js';
import { assertCredentials } from '../config/credentials.js';
import { matrixNames, resolveMatrix, resolveScenarios, suiteNames } from '../config/scenarios.js';
import { isLabTarget, needsLabLibvirt } from '../config/targets.js';
import { compareThresholds } from '../config/compare.js';
import { shardScenarios } from '../config/shard.js';
import { compareMarkdown } from '../render/comparison.js';
import { renderHtmlReport } from '../render/html.js';
import { errorMessage, runCleanups, UsageError } from '../model/errors.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { projectPath, PROJECT_ROOT } from '../model/paths.js';
import { resultsMarkdown, teardownWarning } from '../render/table.js';
import { readResults, ResultsWriter } from '../model/results.js';
import { ResultsReporter } from '../vitest/reporter.js';
import type { MigbenchRunContext } from '../vitest/suite.js';
import type { MigbenchConfig } from '../generated/config.js';
import type { RunOptions } from './args.js';

export interface RunSummary {
  /** 0 passed, 1 failed, 2 bad input, 128 + n stopped by signal n. */
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
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** How migbench runs suites under vitest: one file at a time, no config file of vitest's own. */
function suiteRunOptions(reporter: ResultsReporter, migbench: MigbenchRunContext) {
  return {
    root: PROJECT_ROOT,
    config: false as const,
    watch: false,
    include: ['suites/**/*.test.ts'],
    setupFiles: [projectPath('src/vitest/setup.ts')],
    reporters: ['default', reporter] as Array<'default' | ResultsReporter>,
    provide: { migbench },
    fileParallelism: false,
    pool: 'forks' as const,
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    // Failed assertions carry their line, for the Action's annotations.
    includeTaskLocation: true,
  };
}

export async function runSuites(options: RunOptions, io: Io): Promise<RunSummary> {
  if (options.ab) return runAb(options, options.ab, io);
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
  let selected = options.scenarios.length ? scenarios.filter((s) => options.scenarios.includes(s.name)) : scenarios;
  if (options.shard) {
    const mine = new Set(
      shardScenarios(
        selected.map((s) => s.name),
        options.shard,
      ),
    );
    selected = selected.filter((s) => mine.has(s.name));
    io.log(`shard ${options.shard.index}/${options.shard.total}: ${[...mine].join(', ') || 'no scenarios'}`);
  }
  const names = options.shard || options.scenarios.length ? [...new Set(selected.map((s) => s.name))] : [];
  if ((options.shard || options.scenarios.length) && !names.length) {
    const outDir = isAbsolute(options.out) ? options.out : resolve(options.out);
    const empty = await ResultsWriter.create(outDir, { path: relative(process.cwd(), configPath) || configPath, sha256: loaded.sha256 });
    return { exitCode: 0, resultsPath: empty.path, markdownPath: '', records: 0 };
  }

  // Bring the lab up when a selected scenario runs there, and take down only what we started.
  // Credentials of the targets this run uses, checked before anything connects.
  assertCredentials(
    loaded,
    selected.map((s) => s.target),
  );
  const startedLab = await ensureLab(
    loaded.config,
    selected.map((s) => s.target),
    io,
  );

  const outDir = isAbsolute(options.out) ? options.out : resolve(options.out);
  const writer = await ResultsWriter.create(outDir, { path: relative(process.cwd(), configPath) || configPath, sha256: loaded.sha256 });
  const reporter = new ResultsReporter(writer);
  let failed = true;
  const stopFile = join(outDir, '.migbench-stop');
  const signals = stopOnSignals(reporter, io, stopFile);
  try {
    const vitest = await startVitest(
      'test',
      files,
      {
        ...suiteRunOptions(reporter, { configPath, stopFile, matrices: [...options.matrices], ...(options.repeat !== undefined && { repeat: options.repeat }) }),
        // Whole names only: "idle-256" must not select "storage-idle-256".
        ...(names.length && { testNamePattern: `(?:^|\\s)(?:${names.map(escapeRegExp).join('|')}) #\\d+$` }),
      },
      {},
      {},
    );
    failed = vitest.state.getCountOfFailedTests() > 0 || vitest.state.getUnhandledErrors().length > 0 || reporter.errors.length > 0;
    for (const error of reporter.errors) io.log(`migbench: could not write a record: ${errorMessage(error)}`);
    await vitest.close();
  } finally {
    signals.remove();
    await runCleanups(startedLab && !options.keepLab ? [['lab down', () => labDown({ log: io.log })]] : []);
    // vitest sets process.exitCode itself; migbench decides its own.
    process.exitCode = undefined;
  }

  await writeFile(join(outDir, 'failures.json'), `${JSON.stringify(reporter.failures, null, 2)}\n`);
  const results = await readResults(writer.path);
  const markdown = resultsMarkdown(results);
  const markdownPath = join(outDir, 'results.md');
  await writeFile(markdownPath, markdown);
  await writeFile(join(outDir, 'results.html'), renderHtmlReport(results));
  io.out(`\n${markdown}`);
  io.out(
    `Results: ${relative(process.cwd(), writer.path) || writer.path} (${results.records.length} records), table: ${relative(process.cwd(), markdownPath) || markdownPath}, charts: ${relative(process.cwd(), join(outDir, 'results.html'))}\n`,
  );
  const warning = teardownWarning(
    results,
    selected.some((s) => isLabTarget(loaded.config, s.target)),
  );
  if (warning) io.log(warning);
  // The tests decide: a cancelled non-converging matrix scenario is a result, not a failure.
  const anyFailed = failed || results.records.length === 0;
  if (signals.received) io.log(`migbench: stopped by ${signals.received}; ${results.records.length} records kept in ${relative(process.cwd(), writer.path) || writer.path}`);
  return { exitCode: signals.received ? signalExitCode(signals.received) : anyFailed ? 1 : 0, resultsPath: writer.path, markdownPath, records: results.records.length };
}

/**
 * `migbench run --ab BASE HEAD`: the suites both configs define, base and head run by run
 * on the same hosts; records go to <out>/base and <out>/head, then they are compared.
 */
async function runAb(options: RunOptions, ab: { base: string; head: string }, io: Io): Promise<RunSummary> {
  const paths = { base: resolve(ab.base), head: resolve(ab.head) };
  const [base, head] = [await loadConfig(paths.base), await loadConfig(paths.head)];
  const common = suiteNames(base.config).filter((s) => suiteNames(head.config).includes(s));
  const suites = options.suites.length ? [...options.suites] : common;
  for (const suite of suites) {
    if (!common.includes(suite)) throw new UsageError(`suite "${suite}" is not in both configs (both have: ${common.join(', ') || 'none'})`);
  }
  const scenarios = suites.flatMap((s) => resolveScenarios(base.config, s).filter((b) => resolveScenarios(head.config, s).some((h) => h.name === b.name)));
  for (const name of options.scenarios) {
    if (!scenarios.some((s) => s.name === name)) throw new UsageError(`no scenario "${name}" in both configs' suites (${suites.join(', ')})`);
  }
  if (!scenarios.length) throw new UsageError('the two configs share no scenario: A/B compares scenarios of the same name');

  for (const config of [base, head])
    assertCredentials(
      config,
      scenarios.map((s) => s.target),
    );
  const startedLab = await ensureLab(
    head.config,
    scenarios.map((s) => s.target),
    io,
  );
  const outDir = isAbsolute(options.out) ? options.out : resolve(options.out);
  const writers = {
    base: await ResultsWriter.create(join(outDir, 'base'), { path: relative(process.cwd(), paths.base) || paths.base, sha256: base.sha256 }),
    head: await ResultsWriter.create(join(outDir, 'head'), { path: relative(process.cwd(), paths.head) || paths.head, sha256: head.sha256 }),
  };
  const reporter = new ResultsReporter((record) => writers[record.variant ?? 'head']);
  let failed = true;
  const stopFile = join(outDir, '.migbench-stop');
  const signals = stopOnSignals(reporter, io, stopFile);
  try {
    const vitest = await startVitest(
      'test',
      [projectPath('suites', 'ab.test.ts')],
      suiteRunOptions(reporter, {
        configPath: paths.head,
        stopFile,
        ab: { ...paths, suites, scenarios: [...options.scenarios] },
        ...(options.repeat !== undefined && { repeat: options.repeat }),
      }),
      {},
      {},
    );
    failed = vitest.state.getCountOfFailedTests() > 0 || vitest.state.getUnhandledErrors().length > 0 || reporter.errors.length > 0;
    for (const error of reporter.errors) io.log(`migbench: could not write a record: ${errorMessage(error)}`);
    await vitest.close();
  } finally {
    signals.remove();
    await runCleanups(startedLab && !options.keepLab ? [['lab down', () => labDown({ log: io.log })]] : []);
    process.exitCode = undefined;
  }
  await writeFile(join(outDir, 'failures.json'), `${JSON.stringify(reporter.failures, null, 2)}\n`);
  const [baseResults, headResults] = [await readResults(writers.base.path), await readResults(writers.head.path)];
  const comparison = compareResults(baseResults, headResults, {
    ...(head.config.compare?.alpha !== undefined && { alpha: head.config.compare.alpha }),
    ...(head.config.compare?.judge && { metrics: head.config.compare.judge }),
    thresholds: compareThresholds(head.config),
  });
  const markdown = compareMarkdown(comparison, { baseLabel: ab.base, headLabel: ab.head, fullReport: join(outDir, 'compare.md') });
  await writeFile(join(outDir, 'compare.md'), compareMarkdown(comparison, { baseLabel: ab.base, headLabel: ab.head, limit: Number.MAX_SAFE_INTEGER }));
  await writeFile(join(outDir, 'compare.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  await writeFile(join(outDir, 'compare.html'), renderHtmlReport(headResults, { base: baseResults, title: `migbench: ${ab.base} vs ${ab.head}` }));
  io.out(`\n${markdown}`);
  io.out(
    `Results: ${relative(process.cwd(), writers.base.path)} and ${relative(process.cwd(), writers.head.path)}; comparison: ${relative(process.cwd(), join(outDir, 'compare.md'))}\n`,
  );
  const onLab = scenarios.some((s) => isLabTarget(head.config, s.target));
  for (const warning of [teardownWarning(baseResults, onLab), teardownWarning(headResults, onLab)]) if (warning) io.log(warning);
  const exitCode = signals.received ? signalExitCode(signals.received) : failed || !baseResults.records.length || !headResults.records.length ? 1 : comparisonExitCode(comparison);
  return { exitCode, resultsPath: writers.head.path, markdownPath: join(outDir, 'compare.md'), records: baseResults.records.length + headResults.records.length };
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

/** The shell's convention: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM). */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 15);
}

/**
 * Brings the lab up (with libvirtd when a target drives it through libvirt) when a
 * scenario runs there; says whether this run started it, so only then is it taken down.
 */
async function ensureLab(config: MigbenchConfig, targets: readonly string[], io: Io): Promise<boolean> {
  if (!targets.some((t) => isLabTarget(config, t))) return false;
  const withLibvirt = targets.some((t) => needsLabLibvirt(config, t));
  const status = await labStatus({ checkSsh: true });
  if (status.up && (!withLibvirt || status.state?.libvirt)) return false;
  await labUp({ log: io.log, withLibvirt });
  // A lab that was only slow to answer was someone's already: not ours to take down.
  return !status.up && !status.unresponsive;
}
