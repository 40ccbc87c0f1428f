// The Action: inputs in, the gate run, outputs and the verdict out. Measuring runs the
// migbench CLI shipped inside the Action (dist/runtime) as a child process, its output
// streamed; nothing from the workspace is executed.
import * as core from '@actions/core';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { formatError, MigbenchError } from '../model/errors.js';
import { loadConfig } from '../config/load.js';
import { resolveScenarios, suiteNames } from '../config/scenarios.js';
import { LocalRunner } from '../exec/local.js';
import { contextFromEnv } from './context.js';
import { runGate, type Measure } from './gate.js';
import { createGitHubClient } from '../github/api.js';
import { readInputs } from './inputs.js';
import { scenarioGroups } from './stream.js';
import { childEnvironment } from './env.js';

/** What runs migbench: without the Action's inputs and tokens in its environment (env.ts). */
const runner = new LocalRunner({ env: childEnvironment(process.env) });

/**
 * The migbench this Action runs: the released package installed beside the bundle
 * (dist/runtime, built by `npm run build:action -- --runtime` and committed on release tags),
 * never the workspace's code. Preparing the runner's system (QEMU, the guest image) is
 * the admin's one-time `migbench setup`, not a job step.
 */
export function runtimeBin(actionDir: string = dirname(fileURLToPath(import.meta.url))): string {
  return join(actionDir, 'runtime', 'node_modules', 'migbench', 'bin', 'migbench.js');
}

/** Streams each line of a child's output to the log as it comes: a long gate is seen live. */
function streamLines(stream: Readable, log: (line: string) => void): Promise<void> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', log);
    lines.on('close', resolve);
  });
}

async function cli(args: string[]): Promise<{ exitCode: number }> {
  const bin = runtimeBin();
  if (!existsSync(bin)) {
    throw new MigbenchError(
      'MB_SETUP',
      `this Action has no migbench runtime (${bin} is missing): use a released migbench (uses: migbench/migbench@v1), whose dist/ carries it`,
      {},
    );
  }
  const child = runner.spawn([process.execPath, bin, ...args]);
  const log = scenarioGroups(core.info);
  await Promise.all([streamLines(child.stdout, log.line), streamLines(child.stderr, log.line)]);
  log.end();
  const result = await child.done;
  return { exitCode: result.exitCode ?? 1 };
}

/** The runner must have been prepared (`migbench setup`): say what it lacks before measuring. */
async function doctorFirst(): Promise<void> {
  const checked = await cli(['doctor']);
  if (checked.exitCode !== 0)
    throw new MigbenchError(
      'MB_SETUP',
      'this runner is not ready for migbench (migbench doctor above says what it lacks and the command that fixes it; a runner admin runs it once)',
    );
}

async function measureWith(args: string[]): Promise<{ exitCode: number }> {
  await doctorFirst();
  return cli(args);
}

const measure: Measure = {
  suites: (o) =>
    measureWith([
      'run',
      '--config',
      o.config,
      '--out',
      o.out,
      // The Action's own results folder: a job that runs again replaces its last results.
      '--force',
      ...o.suites.flatMap((s) => ['--suite', s]),
      ...o.scenarios.flatMap((s) => ['--scenario', s]),
      ...(o.repeat ? ['--repeat', String(o.repeat)] : []),
    ]),
  ab: (o) =>
    measureWith([
      'run',
      '--ab',
      o.base,
      o.head,
      '--out',
      o.out,
      // The Action's own results folder: a job that runs again replaces its last results.
      '--force',
      ...o.suites.flatMap((s) => ['--suite', s]),
      ...o.scenarios.flatMap((s) => ['--scenario', s]),
      ...(o.repeat ? ['--repeat', String(o.repeat)] : []),
    ]),
};

async function scenarioNames(config: string): Promise<string[]> {
  const loaded = (await loadConfig(config)).config;
  return suiteNames(loaded).flatMap((s) => resolveScenarios(loaded, s).map((x) => x.name));
}

export async function run(): Promise<void> {
  try {
    const inputs = readInputs((name) => core.getInput(name));
    if (inputs.githubToken) core.setSecret(inputs.githubToken);
    const ctx = await contextFromEnv(process.env);
    const octokit = inputs.githubToken
      ? createGitHubClient({
          token: inputs.githubToken,
          ...(process.env.GITHUB_API_URL && { baseUrl: process.env.GITHUB_API_URL }),
          log: { debug: core.debug, info: core.info, warn: core.warning, error: core.error },
        })
      : null;
    const result = await runGate(
      inputs,
      ctx,
      {
        log: core.info,
        summary: (md) =>
          core.summary
            .addRaw(md)
            .write()
            .then(() => undefined),
        setOutput: core.setOutput,
        annotate: (message, file, line) => core.error(message, { file, ...(line !== undefined && { startLine: line }) }),
        mask: core.setSecret,
      },
      { measure, octokit, scenarioNames },
    );
    core.setOutput('results-path', result.resultsPath);
    core.setOutput('verdict', result.verdict);
    core.setOutput('regressions', String(result.regressions));
    core.setOutput('comment-id', result.commentId === null ? '' : String(result.commentId));
    core.setOutput('report-path', result.reportPath);
    if (result.failure) core.setFailed(result.failure);
  } catch (error) {
    core.setFailed(formatError(error));
  }
}
