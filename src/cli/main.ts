// Dispatches one command and maps its outcome to an exit code (model/exit.ts): 0 ok, 1 a
// regression, a migration or an assertion failed, 2 the user's input was wrong (message
// only, no stack trace), 3 the infrastructure failed (hosts, lab, set-up).
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { compareResults, comparisonExitCode, headFindings, type Comparison, type CompareOptions } from '../analysis/comparison.js';
import { loadConfig } from '../config/load.js';
import { findConfig } from '../config/find.js';
import { assertCredentials, scenarioTargets } from '../config/credentials.js';
import { resolveScenarios, suiteNames, matrixNames, resolveMatrix } from '../config/scenarios.js';
import { compareOptions } from '../config/compare.js';
import { compareMarkdown } from '../render/comparison.js';
import { renderHtmlReport } from '../render/html.js';
import { toBencherMetricFormat, toGithubActionBenchmark } from '../render/export.js';
import { formatError, isUserError, UsageError } from '../model/errors.js';
import { labDown, labStatus, labUp } from '../lab/lab.js';
import { labLockHolder } from '../lab/lock.js';
import { resultsMarkdown } from '../render/table.js';
import { mergeResults, readResults, resultsPath } from '../model/results.js';
import { LocalRunner } from '../exec/local.js';
import { ensureGuestImage } from '../setup/image.js';
import { ensureProbeTool, ensureVcsim } from '../setup/tools.js';
import { commandHelp, parseCommand, USAGE, type Command, type CompareCommandOptions } from './args.js';
import { runSuites, type Io } from './run.js';
import { resultsDirFor } from './out.js';
import { statusLine, wantsStatusLine } from './terminal.js';
import { initRepository } from './init.js';
import { doctor, doctorReport, installMissingPackages } from '../setup/doctor.js';
import { MIGBENCH_VERSION } from '../model/version.js';
import { EXIT } from '../model/exit.js';

export const stdio: Io = {
  log: (line) => process.stderr.write(`${line}\n`),
  out: (text) => process.stdout.write(text),
  statusLine: () => (wantsStatusLine() ? statusLine() : null),
};

type CommandNamed<N extends Command['name']> = Extract<Command, { readonly name: N }>;

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  try {
    return await dispatch(parseCommand(argv), io);
  } catch (error) {
    io.log(`migbench: ${formatError(error, { stack: Boolean(process.env.MIGBENCH_DEBUG) && !isUserError(error) })}`);
    // Whatever stopped a command before it could judge anything is not a verdict.
    return isUserError(error) ? EXIT.badInput : EXIT.infrastructure;
  }
}

async function dispatch(command: Command, io: Io): Promise<number> {
  switch (command.name) {
    case 'help':
      io.out(command.command ? commandHelp(command.command) : `${USAGE}\n`);
      return 0;
    case 'version':
      io.out(`migbench ${MIGBENCH_VERSION}\n`);
      return 0;
    case 'init':
      return init(command, io);
    case 'doctor': {
      const findings = await doctor();
      io.out(doctorReport(findings));
      return findings.every((f) => f.ok) ? EXIT.ok : EXIT.infrastructure;
    }
    case 'setup':
      return setup(command, io);
    case 'lab':
      return lab(command, io);
    case 'run':
    case 'start':
      return (await runSuites(command.options, io, command.name === 'start')).exitCode;
    case 'report':
      return report(command, io);
    case 'compare':
      return compare(command.options, io);
    case 'alert':
      return alert(command, io);
    case 'merge':
      return merge(command, io);
    case 'export':
      return exportResults(command, io);
    case 'validate':
      return validate(command, io);
    // These load octokit: only when asked for, so the other commands start as fast as before.
    case 'store':
      return (await import('./store.js')).store(command.options, io);
    case 'baseline':
      return (await import('./store.js')).baseline(command.options, io);
    case 'history':
      return (await import('./store.js')).history(command.options, io);
  }
}

async function init(command: CommandNamed<'init'>, io: Io): Promise<number> {
  const written = await initRepository(process.cwd(), { force: command.force });
  io.out(
    `${written.map((f) => `wrote ${f}`).join('\n')}\n\nNext: \`npm install --save-dev migbench vitest\` if you have not, then \`npx migbench run\` (as root: the embedded lab needs it).\n`,
  );
  return 0;
}

async function setup(command: CommandNamed<'setup'>, io: Io): Promise<number> {
  await installMissingPackages(new LocalRunner(), io.log);
  const image = await ensureGuestImage(new LocalRunner(), io.log);
  const probe = await ensureProbeTool(io.log);
  const vcsim = command.testTools ? await ensureVcsim(io.log) : null;
  io.log(`setup: guest image ${image.dir} (${image.kernelPackage}); migbench-probe ${probe.localPath}${vcsim ? `; vcsim ${vcsim}` : ''}`);
  return 0;
}

async function lab(command: CommandNamed<'lab'>, io: Io): Promise<number> {
  if (command.action === 'up') await labUp({ log: io.log, withLibvirt: command.withLibvirt });
  else if (command.action === 'down') {
    const { removedNamespaces } = await labDown({ log: io.log });
    if (!removedNamespaces.length) io.log('lab: nothing to remove');
  } else return printLabStatus(io);
  return 0;
}

/** `lab status`: exit code 0 when the lab is up. */
async function printLabStatus(io: Io): Promise<number> {
  const status = await labStatus();
  const holder = await labLockHolder();
  io.out(`${status.up ? 'lab is up' : 'lab is down'}${holder ? `, in use by pid ${holder.pid} (${holder.what}, since ${holder.since})` : ''}\n`);
  for (const ns of status.namespaces) io.out(`  ${ns.name}: ${ns.exists ? `present, ${ns.processes} processes` : 'absent'}\n`);
  for (const problem of status.problems) io.out(`  - ${problem}\n`);
  if (status.leftovers.length) {
    io.out(`  left behind by a run that crashed or whose teardown failed (\`migbench lab up\` removes them; \`lab down\` removes the lab):\n`);
    for (const leftover of status.leftovers) io.out(`  - ${leftover}\n`);
  }
  return status.up ? 0 : 1;
}

async function report(command: CommandNamed<'report'>, io: Io): Promise<number> {
  io.out(command.html ? renderHtmlReport(await readResults(await resultsPath(command.results))) : resultsMarkdown(await readResults(await resultsPath(command.results))));
  return 0;
}

async function compare(o: CompareCommandOptions, io: Io): Promise<number> {
  const comparison = await compareFiles(o.base, o.head, o.config, { allowEnvironmentChange: o.allowEnvironmentChange });
  const markdown = compareMarkdown(comparison, { baseLabel: o.base, headLabel: o.head, samples: o.samples, ...(o.out && { fullReport: join(o.out, 'compare.md') }) });
  if (o.out) {
    await mkdir(o.out, { recursive: true });
    await writeFile(join(o.out, 'compare.md'), compareMarkdown(comparison, { baseLabel: o.base, headLabel: o.head, samples: true, limit: Number.MAX_SAFE_INTEGER }));
    await writeFile(join(o.out, 'compare.json'), `${JSON.stringify(comparison, null, 2)}\n`);
  }
  io.out(o.json ? `${JSON.stringify(comparison, null, 2)}\n` : markdown);
  return comparisonExitCode(comparison);
}

/** Compares two results files (or folders), judged by the compare section of the config when one is given. */
async function compareFiles(basePath: string, headPath: string, configPath: string | undefined, options: CompareOptions = {}): Promise<Comparison> {
  const [base, head] = [await readResults(await resultsPath(basePath)), await readResults(await resultsPath(headPath))];
  const config = configPath ? (await loadConfig(configPath)).config : undefined;
  return compareResults(base, head, { ...compareOptions(config), ...options });
}

async function alert(command: CommandNamed<'alert'>, io: Io): Promise<number> {
  const comparison = await compareFiles(command.base, command.head, command.config);
  const [{ githubFromEnvironment }, { upsertRegressionIssue }] = await Promise.all([import('./store.js'), import('../github/api.js')]);
  const octokit = githubFromEnvironment('alert', 'issues: write', io);
  const [owner, repo] = command.repository.split('/') as [string, string];
  const regressions = comparison.counts.regression;
  const findings = headFindings(comparison);
  // A changed environment judges nothing (every row not comparable): it neither opens nor closes the issue.
  const state = findings.length ? 'regressed' : comparison.environmentDifferences.length ? 'environment-changed' : 'recovered';
  const result = await upsertRegressionIssue(octokit, {
    owner,
    repo,
    label: command.label,
    title: 'migbench: live migration regression',
    body: compareMarkdown(comparison, { baseLabel: command.base, headLabel: command.head }),
    state,
  });
  const what =
    state === 'environment-changed'
      ? `environment changed (${comparison.environmentDifferences.map((d) => d.field).join(', ')})`
      : `${regressions} regression${regressions === 1 ? '' : 's'}`;
  io.out(`${what}; issue ${result.issueNumber ?? '—'}: ${result.action}\n`);
  return comparisonExitCode(comparison);
}

async function merge(command: CommandNamed<'merge'>, io: Io): Promise<number> {
  if (command.force) await refuseInputsInside(command.out, command.inputs);
  const { dir, note } = await resultsDirFor(command.out, command.force);
  if (note) io.log(note);
  const writer = await mergeResults(dir, command.inputs);
  io.out(`${writer.path}: ${writer.records.length} records from ${command.inputs.length} files\n`);
  return 0;
}

/** --force empties --out first: an input inside it would be gone before it is read. Real paths, so a symlink counts. */
async function refuseInputsInside(out: string, inputs: readonly string[]): Promise<void> {
  const outDir = await realpath(out).catch(() => resolve(out));
  for (const input of inputs) {
    const path = await realpath(await resultsPath(input)).catch(() => resolve(input));
    if (path.startsWith(outDir + sep)) throw new UsageError(`merge --force would remove ${input} (it is in --out ${out}) before reading it: merge into another folder`);
  }
}

async function exportResults(command: CommandNamed<'export'>, io: Io): Promise<number> {
  const results = await readResults(await resultsPath(command.results));
  io.out(`${JSON.stringify(command.format === 'bmf' ? toBencherMetricFormat(results) : toGithubActionBenchmark(results), null, 2)}\n`);
  return 0;
}

async function validate(command: CommandNamed<'validate'>, io: Io): Promise<number> {
  const configPath = findConfig(command.config);
  const loaded = await loadConfig(configPath);
  const { config } = loaded;
  // What a run would log in with, for the targets its scenarios use: set and readable, never shown.
  if (command.credentials) assertCredentials(loaded, scenarioTargets(config));
  const counts = suiteNames(config).map((s) => `${s} (${resolveScenarios(config, s).length} scenarios)`);
  const matrices = matrixNames(config).map((m) => `${m} (${resolveMatrix(config, m).length} scenarios)`);
  io.out(`${configPath}: valid; suites: ${counts.join(', ')}${matrices.length ? `; matrices: ${matrices.join(', ')}` : ''}\n`);
  return 0;
}
