// The pull-request gate, everything the Action does between reading its inputs and
// setting its outputs: refuse fork PRs on self-hosted runners, measure head (and base,
// interleaved) or take results already measured, compare, write the job summary,
// comment once (sticky), annotate, and decide whether the step fails.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Octokit } from 'octokit';
import { compareResults, headFindings, type Comparison, type Verdict } from '../analysis/comparison.js';
import { configLine, loadConfig } from '../config/load.js';
import type { MigbenchConfig } from '../generated/config.js';
import { compareOptions } from '../config/compare.js';
import { EXIT } from '../model/exit.js';
import { MigbenchError } from '../model/errors.js';
import type { ResultsFile } from '../generated/results.js';
import { compareMarkdown } from '../render/comparison.js';
import { resultsMarkdown, guestState } from '../render/table.js';
import { readResults } from '../model/results.js';
import type { CommandRunner } from '../exec/runner.js';
import { commentLogin, mergeBase, upsertStickyComment } from '../github/api.js';
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
  const order: Verdict[] = ['regression', 'warn', 'inconclusive', 'not comparable', 'improved', 'unchanged'];
  return order.find((v) => comparison.counts[v] > 0) ?? 'unchanged';
}

/** What the gate runs through: measuring, GitHub's API (none without a token), git, and the config's scenario names. */
interface GateDeps {
  readonly measure: Measure;
  readonly octokit: Octokit | null;
  readonly git: CommandRunner;
  readonly scenarioNames: (config: string) => Promise<string[]>;
}

/** Head's results (measured, or given), base's when there is a baseline, and whether the run failed. */
interface Measured {
  readonly head: ResultsFile;
  readonly base: ResultsFile | null;
  readonly headPath: string;
  readonly runFailed: boolean;
  /** The measuring run's exit status (model/exit.ts); 0 when results were given. */
  readonly runExit: number;
}

/** Where this gate measures: the results folder, the head config, and the scenarios of its shard (none: all). */
interface Workspace {
  readonly out: string;
  readonly configPath: string;
  readonly scenarios: string[];
}

export async function runGate(inputs: ActionInputs, ctx: GateContext, io: GateIo, deps: GateDeps): Promise<GateResult> {
  const pr = pullRequest(ctx);
  refuseForkOnSelfHosted(pr, ctx, inputs);
  const workspace = await prepareWorkspace(inputs, ctx, deps, io);
  const { head, base, headPath, runFailed, runExit } = await measureOrRead(inputs, ctx, pr, workspace, deps, io);
  await annotateFailures(workspace.out, head, io, {
    path: inputs.config,
    config: await loadConfig(workspace.configPath).then(
      (l) => l.config,
      () => null,
    ),
  });
  const reportPath = join(workspace.out, 'compare.md');
  const { comparison, markdown } = await writeReport(base, head, workspace.configPath, reportPath);
  const status = runExit === 0 ? '' : `${exitMeaning(runExit)}\n\n`;
  await io.summary(`${status}${await readFile(reportPath, 'utf8')}\n\n${resultsMarkdown(head)}`);
  const commentId = pr && deps.octokit && inputs.comment !== 'never' ? await comment(deps.octokit, ctx, pr, inputs, { markdown, comparison, runFailed }, io) : null;
  const regressions = comparison?.counts.regression ?? 0;
  return {
    verdict: comparison ? overallVerdict(comparison) : 'no comparison',
    regressions,
    commentId,
    reportPath,
    resultsPath: headPath,
    failure: failureReason(inputs, { comparison, head, runFailed, runExit }),
  };
}

function refuseForkOnSelfHosted(pr: PullRequest | null, ctx: GateContext, inputs: ActionInputs): void {
  if (pr?.fork && ctx.runnerEnvironment === 'self-hosted' && !inputs.allowForkPullRequests) {
    throw new MigbenchError(
      'MB_USAGE',
      'refusing to run for a pull request from a fork on a self-hosted runner: anyone who can open a pull request could run code beside your hypervisors. Measure trusted branches only, or relay results with workflow_run (see docs/action.md), or set allow-fork-pull-requests: true if this runner is disposable.',
      { userError: true },
    );
  }
}

async function prepareWorkspace(inputs: ActionInputs, ctx: GateContext, deps: GateDeps, io: GateIo): Promise<Workspace> {
  const out = resolve(ctx.workspace, inputs.resultsDir);
  await mkdir(out, { recursive: true });
  const configPath = resolve(ctx.workspace, inputs.config);
  const scenarios = inputs.shard ? shardScenarios(await deps.scenarioNames(configPath), inputs.shard) : [];
  if (inputs.shard) io.log(`shard ${inputs.shard.index}/${inputs.shard.total}: ${scenarios.join(', ') || 'no scenarios'}`);
  return { out, configPath, scenarios };
}

/** Results given as an input, else base and head run A/B (baseline: rerun on a pull request), else head alone. */
async function measureOrRead(inputs: ActionInputs, ctx: GateContext, pr: PullRequest | null, workspace: Workspace, deps: GateDeps, io: GateIo): Promise<Measured> {
  if (inputs.results) {
    const headPath = resolve(ctx.workspace, inputs.results);
    const head = await readResults(headPath);
    return { head, base: await readBaseline(inputs, ctx), headPath, runFailed: false, runExit: 0 };
  }
  if (inputs.baseline === 'rerun' && pr && deps.octokit) return measureAgainstMergeBase(inputs, ctx, pr, workspace, { ...deps, octokit: deps.octokit }, io);
  const { out, configPath, scenarios } = workspace;
  const runExit = (await deps.measure.suites({ config: configPath, suites: inputs.suites, repeat: inputs.repeat, out, scenarios })).exitCode;
  const headPath = join(out, 'results.json');
  const head = await readResults(headPath);
  return { head, base: await readBaseline(inputs, ctx), headPath, runFailed: runExit !== 0, runExit };
}

/** A baseline given as a results file; none for rerun (without a pull request to rerun against). */
async function readBaseline(inputs: ActionInputs, ctx: GateContext): Promise<ResultsFile | null> {
  return inputs.baseline !== 'rerun' ? readResults(resolve(ctx.workspace, inputs.baseline.path)) : null;
}

/** Base is the config at the merge-base of the pull request, run interleaved with head's. */
async function measureAgainstMergeBase(
  inputs: ActionInputs,
  ctx: GateContext,
  pr: PullRequest,
  { out, configPath, scenarios }: Workspace,
  deps: GateDeps & { readonly octokit: Octokit },
  io: GateIo,
): Promise<Measured> {
  const sha = await mergeBase(deps.octokit, { owner: ctx.owner, repo: ctx.repo, base: pr.baseRef, head: pr.headSha });
  io.log(`baseline: the config at the merge-base ${sha.slice(0, 12)} of ${pr.baseRef}, run interleaved with the head's`);
  const baseConfig = join(await mkdtemp(join(tmpdir(), 'migbench-base-')), 'base-config.yaml');
  const shown = await deps.git.run(['git', '-C', ctx.workspace, 'show', `${sha}:${inputs.config}`], { check: false });
  if (!shown.ok)
    throw new MigbenchError('MB_USAGE', `input baseline: cannot read ${inputs.config} at the merge-base ${sha}: ${shown.stderr.trim()} (fetch with fetch-depth: 0)`, {
      userError: true,
    });
  await writeFile(baseConfig, shown.stdout);
  const runExit = (await deps.measure.ab({ base: baseConfig, head: configPath, suites: inputs.suites, repeat: inputs.repeat, out, scenarios })).exitCode;
  const headPath = join(out, 'head', 'results.json');
  const [base, head] = [await readResults(join(out, 'base', 'results.json')), await readResults(headPath)];
  return { head, base, headPath, runFailed: runExit !== 0, runExit };
}

/** Failed assertions point at their line; failed runs and damaged guests at their suite file. */
async function annotateFailures(out: string, head: ResultsFile, io: GateIo, config: { path: string; config: MigbenchConfig | null }): Promise<void> {
  const failures = JSON.parse(await readFile(join(out, 'failures.json'), 'utf8').catch(() => '[]')) as FailedTest[];
  for (const f of failures) io.annotate(`${f.test}: ${f.message}`, f.file, f.line ?? undefined);
  if (config.config) for (const a of thresholdAnnotations(failures, config.config, config.path)) io.annotate(a.message, a.file, a.line);
  for (const r of head.records) {
    const guest = guestState(r);
    if (r.status !== 'completed' || guest.bad)
      io.annotate(
        `${r.suite} / ${r.scenario} #${r.repetition}: ${r.status !== 'completed' ? (r.error?.message.split('\n')[0] ?? r.status) : guest.text}`,
        `suites/${r.suite}.test.ts`,
      );
  }
}

/** The comparison with the baseline (if any) in full at reportPath; the short form for the comment. */
async function writeReport(base: ResultsFile | null, head: ResultsFile, configPath: string, reportPath: string): Promise<{ comparison: Comparison | null; markdown: string }> {
  if (!base) {
    const markdown = `## migbench: live migration\n\nNo baseline to compare with (baseline: rerun needs a pull request).\n\n${resultsMarkdown(head)}`;
    await writeFile(reportPath, markdown);
    return { comparison: null, markdown };
  }
  const config = (await loadConfig(configPath).catch(() => null))?.config;
  const comparison = compareResults(base, head, compareOptions(config));
  const markdown = compareMarkdown(comparison, { fullReport: 'the job summary and the results artifact' });
  await writeFile(reportPath, compareMarkdown(comparison, { samples: true, limit: Number.MAX_SAFE_INTEGER }));
  return { comparison, markdown };
}

/** One sticky comment per config (and shard); with comment: on-change, a new one only when something is notable. */
async function comment(
  octokit: Octokit,
  ctx: GateContext,
  pr: PullRequest,
  inputs: ActionInputs,
  { markdown, comparison, runFailed }: { markdown: string; comparison: Comparison | null; runFailed: boolean },
  io: GateIo,
): Promise<number | null> {
  const notable = !comparison || comparison.rows.some((r) => r.verdict !== 'unchanged') || runFailed;
  const result = await upsertStickyComment(octokit, {
    owner: ctx.owner,
    repo: ctx.repo,
    issueNumber: pr.number,
    id: `${inputs.config}${inputs.shard ? `#${inputs.shard.index}of${inputs.shard.total}` : ''}`.replace(/[^A-Za-z0-9._/-]/g, '-'),
    body: markdown,
    login: await commentLogin(octokit, inputs.commentAuthor),
    onlyUpdate: inputs.comment === 'on-change' && !notable,
  });
  io.log(`pull request comment: ${result.action}${result.commentId ? ` (${result.commentId})` : ''}`);
  return result.commentId;
}

interface FailedTest {
  readonly file: string;
  readonly line: number | null;
  readonly test: string;
  readonly message: string;
}

/**
 * A threshold that did not hold, annotated where the user set it: the line of
 * `suites.<suite>.scenarios[i].thresholds.<metric>` in their config (the failure message
 * names the metric as "(observedDowntimeMs, from probe)"; the test, as "… > suite > name #n").
 */
export function thresholdAnnotations(failures: readonly FailedTest[], config: MigbenchConfig, file: string): Array<{ message: string; file: string; line: number }> {
  const annotations: Array<{ message: string; file: string; line: number }> = [];
  for (const f of failures) {
    const parts = f.test.split(' > ');
    const suite = parts.at(-2);
    const scenario = parts
      .at(-1)
      ?.replace(/ #\d+$/, '')
      .replace(/@[^@]*$/, '');
    const index = suite === undefined ? -1 : (config.suites[suite]?.scenarios.findIndex((s) => s.name === scenario) ?? -1);
    if (index < 0) continue;
    for (const [, metric] of f.message.matchAll(/\((\w+), from [^)]*\)/g)) {
      const line = configLine(config, ['suites', suite!, 'scenarios', index, 'thresholds', metric!]);
      if (line !== null) annotations.push({ message: `${f.test}: ${metric} did not hold (${f.message.split('\n')[0]})`, file, line });
    }
  }
  return annotations;
}

/** The measuring run's exit status in words, for the job summary. */
export function exitMeaning(code: number): string {
  const meaning: Record<number, string> = {
    [EXIT.failed]: 'a migration failed, or a performance assertion did not hold',
    [EXIT.badInput]: 'bad input: the config or an argument is wrong (the log names the file and the JSON path)',
    [EXIT.infrastructure]: 'infrastructure: a host could not be reached, or the lab or set-up failed, so nothing was judged',
  };
  const text = meaning[code] ?? (code > 128 ? `stopped by signal ${code - 128}` : 'an unexpected failure (see the log)');
  return `> **migbench run exited ${code}**: ${text}.`;
}

/**
 * Why the step fails, or null. With fail-on: regression (the default): head worse than base
 * (a regression, an inconclusive row that looks like one, a failed or missing head run), a
 * head without one completed run, or a measuring run that judged nothing (bad input,
 * infrastructure): a gate that measured nothing has not passed. fail-on: threshold adds
 * failed performance assertions; never, nothing.
 */
function failureReason(inputs: ActionInputs, run: { comparison: Comparison | null; head: ResultsFile; runFailed: boolean; runExit: number }): string | null {
  if (inputs.failOn === 'never') return null;
  const reasons = run.comparison ? headFindings(run.comparison) : [];
  const failedHead = run.head.records.filter((r) => r.status !== 'completed').length;
  if (!run.comparison && failedHead) reasons.push(`${failedHead} of ${run.head.records.length} head runs failed`);
  if (!run.head.records.some((r) => r.status === 'completed')) reasons.push('no head run completed: nothing was measured');
  if (run.runExit === EXIT.badInput || run.runExit === EXIT.infrastructure) reasons.push(exitMeaning(run.runExit).replace(/^> /, '').replaceAll('**', ''));
  if (inputs.failOn === 'threshold' && run.runFailed) reasons.push('a migration failed or a performance assertion did not hold');
  return reasons.length ? [...new Set(reasons)].join('; ') : null;
}
