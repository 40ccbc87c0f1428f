// The Action: inputs in, the gate run, outputs and the verdict out. Measuring runs
// migbench's own CLI (set-up included) as a child process from the Action's checkout.
import * as core from '@actions/core';
import { formatError } from '../model/errors.js';
import { configSecrets } from './secrets.js';
import { loadConfig } from '../config/load.js';
import { resolveScenarios, suiteNames } from '../config/scenarios.js';
import { projectPath } from '../model/paths.js';
import { LocalRunner } from '../exec/local.js';
import { contextFromEnv } from './context.js';
import { runGate, type Measure } from './gate.js';
import { createGitHubClient } from '../github/api.js';
import { readInputs } from './inputs.js';

const runner = new LocalRunner();

async function cli(args: string[]): Promise<{ exitCode: number }> {
  await runner.run(['bash', projectPath('scripts', 'setup.sh')], { timeoutMs: 3_600_000 });
  const result = await runner.run([process.execPath, '--import', 'tsx', projectPath('src/cli/index.ts'), ...args], { check: false, timeoutMs: 24 * 3_600_000 });
  core.info(result.stdout);
  if (result.stderr.trim()) core.info(result.stderr);
  return { exitCode: result.exitCode ?? 1 };
}

const measure: Measure = {
  suites: (o) =>
    cli([
      'run',
      '--config',
      o.config,
      '--out',
      o.out,
      ...o.suites.flatMap((s) => ['--suite', s]),
      ...o.scenarios.flatMap((s) => ['--scenario', s]),
      ...(o.repeat ? ['--repeat', String(o.repeat)] : []),
    ]),
  ab: (o) =>
    cli([
      'run',
      '--ab',
      o.base,
      o.head,
      '--out',
      o.out,
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
    // Hypervisor passwords are masked before the suites run; a config that does not load
    // is reported by the run itself, with its path and the JSON path at fault.
    const loaded = await loadConfig(inputs.config).catch(() => null);
    if (loaded) for (const secret of await configSecrets(loaded.config, process.env)) core.setSecret(secret);
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
      },
      { measure, octokit, git: runner, scenarioNames },
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
