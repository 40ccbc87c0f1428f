// The pull-request gate, everything the Action does between reading its inputs and
// setting its outputs: refuse fork PRs on self-hosted runners, measure head (and base,
// interleaved) or take results already measured, compare, write the job summary,
// comment once (sticky), annotate, and decide whether the step fails.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Octokit } from 'octokit';
import { compareResults, type Comparison, type Verdict } from '../analysis/comparison.js';
import { loadConfig } from '../config/load.js';
import { compareThresholds } from '../config/compare.js';
import { MigbenchError } from '../model/errors.js';
import type { ResultsFile } from '../generated/results.js';
import { compareMarkdown } from '../render/comparison.js';
import { resultsMarkdown, guestState } from '../render/table.js';
import { readResults } from '../model/results.js';
import type { CommandRunner } from '../exec/runner.js';
import { mergeBase, upsertStickyComment } from '../github/api.js';
import type { ActionInputs } from './inputs.js';
import { shardScenarios } from '../config/shard.js';

export { shardScenarios };

/** What the Action knows from GitHub's environment. */
export interface GateContext {
  readonly eventName: string;
  readonly payload: Record<string, unknown>;
  readonly owner: string;
  readonly repo: string;
  /** `self-hosted` or `github-hosted` (RUNNER_ENVIRONMENT). */
  readonly runnerEnvironment: string;
  readonly workspace: string;
}

export interface GateIo {
  readonly log: (line: string) => void;
  readonly summary: (markdown: string) => Promise<void>;
  readonly setOutput: (name: string, value: string) => void;
  readonly annotate: (message: string, file: string, line?: number) => void;
}

export interface Measure {
  /** `migbench run`: head results in `out`. */
  suites(options: { config: string; suites: readonly string[]; repeat: number | undefined; out: string; scenarios: readonly string[] }): Promise<{ exitCode: number }>;
  /** `migbench run --ab`: base and head results in `out/base`, `out/head`. */
  ab(options: { base: string; head: string; suites: readonly string[]; repeat: number | undefined; out: string; scenarios: readonly string[] }): Promise<{ exitCode: number }>;
}

export interface GateResult {
  readonly verdict: Verdict | 'no comparison';
  readonly regressions: number;
  readonly commentId: number | null;
  readonly reportPath: string;
  readonly resultsPath: string;
  /** Why the step fails, or null. */
  readonly failure: string | null;
}

interface PullRequest {
  readonly number: number;
  readonly baseRef: string;
  readonly headSha: string;
  readonly fork: boolean;
}

/** The fields of GitHub's pull_request event payload the gate reads; anything may be missing. */
interface PullRequestPayload {
  readonly number?: unknown;
  readonly base?: { readonly ref?: unknown; readonly repo?: { readonly full_name?: unknown } };
  readonly head?: { readonly sha?: unknown; readonly repo?: { readonly full_name?: unknown } };
}

function pullRequest(ctx: GateContext): PullRequest | null {
  const pr = ctx.payload.pull_request as PullRequestPayload | undefined;
  if (!pr || typeof pr.number !== 'number') return null;
  return {
    number: pr.number,
    baseRef: String(pr.base?.ref ?? ''),
    headSha: String(pr.head?.sha ?? ''),
    fork: Boolean(pr.head?.repo?.full_name && pr.base?.repo?.full_name && pr.head.repo.full_name !== pr.base.repo.full_name),
  };
}

/** The worst verdict, for the `verdict` output. */
export function overallVerdict(comparison: Comparison): Verdict {
  const order: Verdict[] = ['regression', 'warn', 'not comparable', 'improved', 'unchanged'];
  return order.find((v) => comparison.counts[v] > 0) ?? 'unchanged';
}

export async function runGate(
  inputs: ActionInputs,
  ctx: GateContext,
  io: GateIo,
  deps: { measure: Measure; octokit: Octokit | null; git: CommandRunner; scenarioNames: (config: string) => Promise<string[]> },
): Promise<GateResult> {
  const pr = pullRequest(ctx);
  if (pr?.fork && ctx.runnerEnvironment === 'self-hosted' && !inputs.allowForkPullRequests) {
    throw new MigbenchError(
      'MB_USAGE',
      'refusing to run for a pull request from a fork on a self-hosted runner: anyone who can open a pull request could run code beside your hypervisors. Measure trusted branches only, or relay results with workflow_run (see docs/action.md), or set allow-fork-pull-requests: true if this runner is disposable.',
      { userError: true },
    );
  }
  const out = resolve(ctx.workspace, inputs.resultsDir);
  await mkdir(out, { recursive: true });
  const configPath = resolve(ctx.workspace, inputs.config);
  const scenarios = inputs.shard ? shardScenarios(await deps.scenarioNames(configPath), inputs.shard) : [];
  if (inputs.shard) io.log(`shard ${inputs.shard.index}/${inputs.shard.total}: ${scenarios.join(', ') || 'no scenarios'}`);

  let head: ResultsFile;
  let base: ResultsFile | null = null;
  let headPath: string;
  let runFailed = false;
  if (inputs.results) {
    headPath = resolve(ctx.workspace, inputs.results);
    head = await readResults(headPath);
    if (inputs.baseline !== 'rerun') base = await readResults(resolve(ctx.workspace, inputs.baseline.path));
  } else if (inputs.baseline === 'rerun' && pr && deps.octokit) {
    const sha = await mergeBase(deps.octokit, { owner: ctx.owner, repo: ctx.repo, base: pr.baseRef, head: pr.headSha });
    io.log(`baseline: the config at the merge-base ${sha.slice(0, 12)} of ${pr.baseRef}, run interleaved with the head's`);
    const baseConfig = join(await mkdtemp(join(tmpdir(), 'migbench-base-')), 'base-config.yaml');
    const shown = await deps.git.run(['git', '-C', ctx.workspace, 'show', `${sha}:${inputs.config}`], { check: false });
    if (!shown.ok)
      throw new MigbenchError('MB_USAGE', `input baseline: cannot read ${inputs.config} at the merge-base ${sha}: ${shown.stderr.trim()} (fetch with fetch-depth: 0)`, {
        userError: true,
      });
    await writeFile(baseConfig, shown.stdout);
    runFailed = (await deps.measure.ab({ base: baseConfig, head: configPath, suites: inputs.suites, repeat: inputs.repeat, out, scenarios })).exitCode !== 0;
    headPath = join(out, 'head', 'results.json');
    [base, head] = [await readResults(join(out, 'base', 'results.json')), await readResults(headPath)];
  } else {
    runFailed = (await deps.measure.suites({ config: configPath, suites: inputs.suites, repeat: inputs.repeat, out, scenarios })).exitCode !== 0;
    headPath = join(out, 'results.json');
    head = await readResults(headPath);
    if (inputs.baseline !== 'rerun') base = await readResults(resolve(ctx.workspace, inputs.baseline.path));
  }

  // Failed assertions point at their line; failed runs and damaged guests at their suite file.
  const failures = JSON.parse(await readFile(join(out, 'failures.json'), 'utf8').catch(() => '[]')) as Array<{ file: string; line: number | null; test: string; message: string }>;
  for (const f of failures) io.annotate(`${f.test}: ${f.message}`, f.file, f.line ?? undefined);
  for (const r of head.records) {
    const guest = guestState(r);
    if (r.status !== 'completed' || guest.bad)
      io.annotate(
        `${r.suite} / ${r.scenario} #${r.repetition}: ${r.status !== 'completed' ? (r.error?.message.split('\n')[0] ?? r.status) : guest.text}`,
        `suites/${r.suite}.test.ts`,
      );
  }

  let comparison: Comparison | null = null;
  let markdown = `## migbench: live migration\n\nNo baseline to compare with (baseline: rerun needs a pull request).\n\n${resultsMarkdown(head)}`;
  const reportPath = join(out, 'compare.md');
  if (base) {
    const config = (await loadConfig(configPath).catch(() => null))?.config;
    comparison = compareResults(base, head, {
      ...(config?.compare?.alpha !== undefined && { alpha: config.compare.alpha }),
      ...(config?.compare?.judge && { metrics: config.compare.judge }),
      ...(config && { thresholds: compareThresholds(config) }),
    });
    markdown = compareMarkdown(comparison, { fullReport: 'the job summary and the results artifact' });
    await writeFile(reportPath, compareMarkdown(comparison, { samples: true, limit: Number.MAX_SAFE_INTEGER }));
  } else {
    await writeFile(reportPath, markdown);
  }
  await io.summary(`${await readFile(reportPath, 'utf8')}\n\n${resultsMarkdown(head)}`);

  let commentId: number | null = null;
  if (pr && deps.octokit && inputs.comment !== 'never') {
    const notable = !comparison || comparison.rows.some((r) => r.verdict !== 'unchanged') || runFailed;
    const result = await upsertStickyComment(deps.octokit, {
      owner: ctx.owner,
      repo: ctx.repo,
      issueNumber: pr.number,
      id: `${inputs.config}${inputs.shard ? `#${inputs.shard.index}of${inputs.shard.total}` : ''}`.replace(/[^A-Za-z0-9._/-]/g, '-'),
      body: markdown,
      login: 'github-actions[bot]',
      onlyUpdate: inputs.comment === 'on-change' && !notable,
    });
    commentId = result.commentId;
    io.log(`pull request comment: ${result.action}${result.commentId ? ` (${result.commentId})` : ''}`);
  }

  const regressions = comparison?.counts.regression ?? 0;
  let failure: string | null = null;
  if (inputs.failOn !== 'never' && regressions) failure = `${regressions} regression${regressions === 1 ? '' : 's'} against the baseline`;
  if (inputs.failOn === 'threshold' && runFailed) failure = [failure, 'a migration failed or a performance assertion did not hold'].filter(Boolean).join('; ');
  return { verdict: comparison ? overallVerdict(comparison) : 'no comparison', regressions, commentId, reportPath, resultsPath: headPath, failure };
}
