// The pull-request gate, everything the Action does between reading its inputs and
// setting its outputs: decide what started it (a pull request, and whether from a fork, or
// the repository's own ref), read the configs of a pull request as data (the trusted one
// from the base branch or a runner file, the head's through the API, knobs only), measure
// base and head interleaved (or take results already measured), compare, write the job
// summary, comment once (sticky), annotate, and decide whether the step fails. Nothing of
// the pull request is executed: the measuring runs migbench's own suites on temp copies.
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Octokit } from 'octokit';
import { compareResults, headFindings, type Comparison, type Verdict } from '../analysis/comparison.js';
import { configLine, loadConfig, readConfigText, validatedConfig } from '../config/load.js';
import { assertSameMeasurement, headConfig, type TrustedSource } from '../config/trust.js';
import type { MigbenchConfig } from '../generated/config.js';
import { compareOptions } from '../config/compare.js';
import { EXIT } from '../model/exit.js';
import { cleanupFailures, MigbenchError } from '../model/errors.js';
import type { ResultsFile } from '../generated/results.js';
import { compareMarkdown } from '../render/comparison.js';
import { resultsMarkdown, guestState } from '../render/table.js';
import { readResults } from '../model/results.js';
import { configSecrets } from './secrets.js';
import { commentLogin, fileAtRef, mergeBase, upsertStickyComment } from '../github/api.js';
import { InputError, type ActionInputs } from './inputs.js';
import { gateEvent, type GateEvent, type PullRequestRef } from './event.js';
import { shardScenarios } from '../config/shard.js';
import { baselineWants } from '../config/baseline.js';
import { resolveScenarios, suiteNames } from '../config/scenarios.js';
import { fetchBaseline, storeResults } from '../github/store.js';
import { selectionLines } from '../model/store.js';
import { markdownText } from '../render/escape.js';

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
  /** GITHUB_REF: the branch an own-ref run measured (what `store` keeps it as). */
  readonly ref?: string;
  /** GITHUB_SHA. */
  readonly sha?: string;
  /** This workflow run's page, kept with a stored run. */
  readonly runUrl?: string;
}

export interface GateIo {
  readonly log: (line: string) => void;
  readonly summary: (markdown: string) => Promise<void>;
  readonly setOutput: (name: string, value: string) => void;
  readonly annotate: (message: string, file: string, line?: number) => void;
  /** Masks a value in the job log (core.setSecret): the passwords the trusted config points at. */
  readonly mask?: (secret: string) => void;
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

/** The worst verdict, for the `verdict` output. */
export function overallVerdict(comparison: Comparison): Verdict {
  const order: Verdict[] = ['regression', 'warn', 'inconclusive', 'not comparable', 'improved', 'unchanged'];
  return order.find((v) => comparison.counts[v] > 0) ?? 'unchanged';
}

/** What the gate runs through: measuring, GitHub's API (none without a token), git, and the config's scenario names. */
interface GateDeps {
  readonly measure: Measure;
  readonly octokit: Octokit | null;
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
  /** The head's config as measured (null when it could not be read), for annotations and the comparison's thresholds. */
  readonly headConfig: MigbenchConfig | null;
  /** How the base was found, for the report; none for a rerun. */
  readonly baseLabel?: string;
  /** Scenarios with no stored baseline, in words: they fail a pull request's gate. */
  readonly missing?: readonly string[];
}

/** Where this gate measures: the results folder, the head config, and the scenarios of its shard (none: all). */
interface Workspace {
  readonly out: string;
  readonly configPath: string;
  readonly scenarios: string[];
}

export async function runGate(inputs: ActionInputs, ctx: GateContext, io: GateIo, deps: GateDeps): Promise<GateResult> {
  const event = await gateEvent(ctx.eventName, ctx.payload, deps.octokit, { owner: ctx.owner, repo: ctx.repo });
  io.log(`event ${ctx.eventName}: ${event.kind}${event.kind === 'pull-request' ? ` #${event.pr.number}${event.fork ? ' from a fork' : ''}` : ''} (${event.why})`);
  const pr = refuseUntrusted(event, ctx, inputs);
  const workspace = await prepareWorkspace(inputs, ctx, pr, deps, io);
  const measured = await measureOrRead(inputs, ctx, pr, workspace, deps, io);
  const { head, headPath, runFailed, runExit, headConfig } = measured;
  await annotateFailures(workspace.out, head, io, { path: inputs.config, config: headConfig });
  const reportPath = join(workspace.out, 'compare.md');
  const { comparison, markdown } = await writeReport(measured, { config: headConfig, acrossEnvironments: acrossEnvironments(inputs, ctx), baseline: inputs.baseline }, reportPath);
  const status = runExit === 0 ? '' : `${exitMeaning(runExit)}\n\n`;
  await io.summary(`${status}${await readFile(reportPath, 'utf8')}\n\n${resultsMarkdown(head)}`);
  const commentId = pr && deps.octokit && inputs.comment !== 'never' ? await comment(deps.octokit, ctx, pr, inputs, { markdown, comparison, runFailed }, io) : null;
  const regressions = comparison?.counts.regression ?? 0;
  const missing = pr ? (measured.missing ?? []) : [];
  if (inputs.store && pr) io.log('store: a pull request is never stored (only push, schedule and dispatch runs of a branch are)');
  // A store that fails fails the step after everything else is reported: the measurement stays in results-dir.
  const stored =
    inputs.store && !pr && !inputs.results
      ? await storeOwnRef(deps, ctx, inputs, { head, runExit, regressed: comparison ? headFindings(comparison).length > 0 : false }, io).then(
          () => null,
          (error: unknown) => `storing the results on ${inputs.dataBranch} failed: ${(error as Error).message}`,
        )
      : null;
  const failure = [failureReason(inputs, { comparison, head, runFailed, runExit, missing }), stored].filter(Boolean).join('; ') || null;
  return {
    verdict: comparison ? overallVerdict(comparison) : 'no comparison',
    regressions,
    commentId,
    reportPath,
    resultsPath: headPath,
    failure,
  };
}

/**
 * The pull request to gate, or null for the repository's own ref. Refused: an event the gate
 * cannot judge, and on a self-hosted runner a pull request from a fork (or one whose origin
 * is unknown) unless allow-fork-pull-requests says the runner may measure strangers' knobs.
 * A relay (results given) only reads, so it may report on any pull request.
 */
function refuseUntrusted(event: GateEvent, ctx: GateContext, inputs: ActionInputs): PullRequestRef | null {
  if (event.kind === 'own-ref') return null;
  if (event.kind === 'unsupported') {
    if (inputs.results) return null;
    throw new MigbenchError(
      'MB_USAGE',
      `refusing to measure: ${event.why} (the gate runs on pull_request_target, pull_request, workflow_run, issue_comment on a pull request, push, schedule and workflow_dispatch)`,
      {
        userError: true,
      },
    );
  }
  if (event.fork && ctx.runnerEnvironment === 'self-hosted' && !inputs.allowForkPullRequests && !inputs.results) {
    throw new MigbenchError(
      'MB_USAGE',
      `refusing to measure a pull request from a fork on a self-hosted runner (${event.why}): its config's knobs would run on your hypervisors. Set allow-fork-pull-requests: true if that is acceptable (nothing of the pull request is executed either way; see docs/action.md)`,
      { userError: true },
    );
  }
  return event.pr;
}

async function prepareWorkspace(inputs: ActionInputs, ctx: GateContext, pr: PullRequestRef | null, deps: GateDeps, io: GateIo): Promise<Workspace> {
  const out = resolve(ctx.workspace, inputs.resultsDir);
  await mkdir(out, { recursive: true });
  const configPath = resolve(ctx.workspace, inputs.config);
  // A pull request's shard is chosen from its head's config (measurePullRequest), never the workspace's.
  const scenarios = inputs.shard && !pr && !inputs.results ? shardScenarios(await deps.scenarioNames(configPath), inputs.shard) : [];
  if (inputs.shard && !pr) io.log(`shard ${inputs.shard.index}/${inputs.shard.total}: ${scenarios.join(', ') || 'no scenarios'}`);
  return { out, configPath, scenarios };
}

/** Results given as an input, else a pull request's base and head A/B, else this ref's config alone (with a baseline file, if given). */
async function measureOrRead(inputs: ActionInputs, ctx: GateContext, pr: PullRequestRef | null, workspace: Workspace, deps: GateDeps, io: GateIo): Promise<Measured> {
  if (inputs.results) {
    const headPath = resolve(ctx.workspace, inputs.results);
    const head = await readResults(headPath);
    const ref = pr ? `refs/heads/${pr.baseRef}` : ctx.ref;
    return {
      head,
      ...(await readBaseline(inputs, ctx, deps, { head, baseConfig: null, ref, pullRequest: Boolean(pr) }, io)),
      headPath,
      runFailed: false,
      runExit: 0,
      headConfig: await workspaceConfig(workspace),
    };
  }
  if (pr) return measurePullRequest(inputs, ctx, pr, workspace, deps, io);
  const { out, configPath, scenarios } = workspace;
  // This ref's own config (push, schedule, dispatch): its passwords are masked before the
  // suites run; one that does not load is reported by the run, naming the file and JSON path.
  const own = await workspaceConfig(workspace);
  if (own) for (const secret of await configSecrets(own, process.env)) io.mask?.(secret);
  const runExit = (await deps.measure.suites({ config: configPath, suites: inputs.suites, repeat: inputs.repeat, out, scenarios })).exitCode;
  const headPath = join(out, 'results.json');
  const head = await readResults(headPath);
  return {
    head,
    ...(await readBaseline(inputs, ctx, deps, { head, baseConfig: null, ref: ctx.ref, pullRequest: false }, io)),
    headPath,
    runFailed: runExit !== 0,
    runExit,
    headConfig: own,
  };
}

/** The workspace's config, when the workspace is this repository's own ref (push, schedule, dispatch) or a relay only reports. */
function workspaceConfig(workspace: Workspace): Promise<MigbenchConfig | null> {
  return loadConfig(workspace.configPath).then(
    (l) => l.config,
    () => null,
  );
}

/**
 * The base when it is not rerun: a results file, or the stored runs of `ref` on the data
 * branch (the base config's fingerprints for a pull request, the head records' own
 * otherwise). None for rerun without a pull request to rerun against.
 */
async function readBaseline(
  inputs: ActionInputs,
  ctx: GateContext,
  deps: GateDeps,
  at: { head: ResultsFile; baseConfig: MigbenchConfig | null; ref: string | undefined; pullRequest: boolean },
  io: GateIo,
): Promise<Pick<Measured, 'base' | 'baseLabel' | 'missing'>> {
  if (inputs.baseline === 'rerun') return { base: null };
  if (inputs.baseline !== 'stored') return { base: await readResults(resolve(ctx.workspace, inputs.baseline.path)), baseLabel: inputs.baseline.path };
  if (!deps.octokit) throw new InputError('github-token', "baseline: stored reads the data branch through GitHub's API: give a token that may read contents");
  if (!at.ref) throw new InputError('baseline', 'stored: the branch whose runs to compare with is unknown (no pull request, and GITHUB_REF is not set)');
  const { wants, new: fresh } = baselineWants(at.head, at.baseConfig);
  for (const s of fresh) io.log(`${s.suite} / ${s.scenario}: ${at.baseConfig ? 'new in this pull request' : 'its records carry no fingerprint'}: no stored baseline looked for`);
  const branch = { owner: ctx.owner, repo: ctx.repo, branch: inputs.dataBranch };
  // A pull request is judged against its base branch as it is, on these hosts (other hosts
  // only when the change is declared to be theirs); a branch's own run against its last good
  // ones, so a regression that persists never becomes its own baseline.
  const { results, selection } = await fetchBaseline(deps.octokit, branch, wants, {
    ref: at.ref,
    runs: inputs.baselineRuns,
    excludeRegressed: !at.pullRequest,
    otherEnvironment: at.pullRequest && !acrossEnvironments(inputs, ctx) ? 'missing' : 'use',
  });
  const lines = selectionLines(selection);
  for (const line of lines) io.log(`stored baseline: ${line}`);
  const runs = new Set(selection.picks.flatMap((p) => p.runs.map((r) => r.id))).size;
  return {
    base: results,
    baseLabel: `${runs} stored run${runs === 1 ? '' : 's'} of ${at.ref.replace(/^refs\/heads\//, '')} (data branch ${inputs.dataBranch})`,
    missing: selection.missing.map((m) => `${m.want.suite} / ${m.want.scenario}: no stored baseline (${m.why})`),
  };
}

/** After a push, schedule or dispatch run: its results kept on the data branch, marked when judged a regression. */
async function storeOwnRef(deps: GateDeps, ctx: GateContext, inputs: ActionInputs, run: { head: ResultsFile; runExit: number; regressed: boolean }, io: GateIo): Promise<void> {
  if (run.runExit === EXIT.badInput || run.runExit === EXIT.infrastructure || !run.head.records.length) return io.log('store: nothing measured, nothing stored');
  if (!deps.octokit) throw new InputError('github-token', "store: true writes the data branch through GitHub's API: give a token with contents: write");
  if (!ctx.ref || !ctx.sha) throw new InputError('store', 'GITHUB_REF and GITHUB_SHA say what is stored; they are not set');
  const meta = { ref: ctx.ref, commit: ctx.sha, storedAt: new Date(), regressed: run.regressed, ...(ctx.runUrl && { runUrl: ctx.runUrl }) };
  const { run: stored } = await storeResults(deps.octokit, { owner: ctx.owner, repo: ctx.repo, branch: inputs.dataBranch }, run.head, meta, { log: io.log });
  io.log(`store: kept ${stored.id} on ${inputs.dataBranch} (${ctx.ref} at ${ctx.sha.slice(0, 12)}${run.regressed ? ', judged a regression' : ''})`);
}

/**
 * A pull request: its base (the config at the merge-base) and its head, both read as data
 * through the API and written to a folder outside the workspace, run interleaved by
 * migbench's own A/B suite (or the head alone against a baseline file). The head may change
 * knobs only (config/trust.ts).
 */
async function measurePullRequest(inputs: ActionInputs, ctx: GateContext, pr: PullRequestRef, workspace: Workspace, deps: GateDeps, io: GateIo): Promise<Measured> {
  const configs = await pullRequestConfigs(inputs, ctx, pr, deps, io);
  try {
    const dropped = droppedScenarios(configs.base, configs.head, inputs);
    const { out } = workspace;
    const scenarios = inputs.shard ? shardScenarios(await deps.scenarioNames(configs.headPath), inputs.shard) : [];
    if (inputs.shard) io.log(`shard ${inputs.shard.index}/${inputs.shard.total}: ${scenarios.join(', ') || 'no scenarios'}`);
    if (inputs.baseline !== 'rerun') {
      // A baseline measured earlier: the head alone, from its copy (suites by name: migbench's own; the pull request's suite files never run).
      const runExit = (await deps.measure.suites({ config: configs.headPath, suites: inputs.suites, repeat: inputs.repeat, out, scenarios })).exitCode;
      const headPath = join(out, 'results.json');
      const head = await readResults(headPath);
      const base = await readBaseline(inputs, ctx, deps, { head, baseConfig: configs.base, ref: `refs/heads/${pr.baseRef}`, pullRequest: true }, io);
      return { head, ...base, missing: [...dropped, ...(base.missing ?? [])], headPath, runFailed: runExit !== 0, runExit, headConfig: configs.head };
    }
    const runExit = (await deps.measure.ab({ base: configs.basePath, head: configs.headPath, suites: inputs.suites, repeat: inputs.repeat, out, scenarios })).exitCode;
    const headPath = join(out, 'head', 'results.json');
    const [base, head] = [await readResults(join(out, 'base', 'results.json')), await readResults(headPath)];
    return { head, base, missing: dropped, headPath, runFailed: runExit !== 0, runExit, headConfig: configs.head };
  } finally {
    // A self-hosted runner keeps its /tmp: the copies (host names, pools) go with the job. A
    // failure to remove them is said, and spoils nothing measured.
    const removal = [`remove the config copies in ${configs.dir}`, () => rm(configs.dir, { recursive: true, force: true })] as const;
    for (const failure of await cleanupFailures([removal])) io.log(`warning: ${failure.message}`);
  }
}

/**
 * The base's scenarios (of the suites run) that the head no longer defines: removed or
 * renamed, they are measured on neither side, so nothing about them is judged. Said once
 * (the first shard), and they fail the gate: a pull request does not pass by dropping what
 * would have shown its regression.
 */
function droppedScenarios(base: MigbenchConfig, head: MigbenchConfig, inputs: ActionInputs): string[] {
  if (inputs.shard && inputs.shard.index !== 1) return [];
  const names = (config: MigbenchConfig, suite: string) => new Set(resolveScenarios(config, suite).map((s) => s.name));
  const suites = inputs.suites.length ? inputs.suites.filter((s) => suiteNames(base).includes(s)) : suiteNames(base);
  return suites.flatMap((suite) => {
    const kept = suiteNames(head).includes(suite) ? names(head, suite) : new Set<string>();
    return [...names(base, suite)]
      .filter((n) => !kept.has(n))
      .map((n) => `${suite} / ${n}: defined by the base, not by this pull request (removed or renamed), so it cannot be judged`);
  });
}

/** A trusted config inside the workspace would be the pull request's own (its checkout, its file): refused, through symlinks too. */
async function assertOutsideWorkspace(path: string, workspace: string): Promise<void> {
  const [file, root] = await Promise.all([realpath(path).catch(() => path), realpath(workspace).catch(() => workspace)]);
  const rel = relative(root, file);
  if (!rel.startsWith('..') && !isAbsolute(rel))
    throw new InputError('trusted-config', `${path} is inside the workspace (${workspace}), which a pull request can write: keep it on the runner, outside`);
}

interface PullRequestConfigs {
  /** The folder outside the workspace holding the two copies; removed after measuring. */
  readonly dir: string;
  readonly basePath: string;
  readonly headPath: string;
  /** The head's config as measured, with its lines in the head's file (for annotations). */
  readonly head: MigbenchConfig;
  /** The base's config as it would be measured (its scenarios' fingerprints find a stored baseline). */
  readonly base: MigbenchConfig;
}

async function pullRequestConfigs(inputs: ActionInputs, ctx: GateContext, pr: PullRequestRef, deps: GateDeps, io: GateIo): Promise<PullRequestConfigs> {
  if (!deps.octokit) throw new InputError('github-token', "a pull request's configs are read through GitHub's API: give a token that may read contents");
  const repo = { owner: ctx.owner, repo: ctx.repo };
  if (inputs.trustedConfig) await assertOutsideWorkspace(inputs.trustedConfig, ctx.workspace);
  const sha = await mergeBase(deps.octokit, { ...repo, base: pr.baseRef, head: pr.headSha });
  const read = async (ref: string, what: string): Promise<{ text: string; file: string }> => {
    const file = `${inputs.config} at ${what} ${ref.slice(0, 12)}`;
    const text = await fileAtRef(deps.octokit!, { ...repo, path: inputs.config, ref });
    if (text === null) throw new InputError('config', `${inputs.config} is not in the repository at ${what} ${ref}`);
    return { text, file };
  };
  const [base, head] = [await read(sha, 'the merge-base'), await read(pr.headSha, "the pull request's head")];
  const baseText = readConfigText(base.text, base.file);
  const trusted: TrustedSource = inputs.trustedConfig
    ? { config: (await loadConfig(inputs.trustedConfig)).config, description: inputs.trustedConfig }
    : { config: validatedConfig(baseText, base.file), description: `the base branch's ${inputs.config} (at the merge-base ${sha.slice(0, 12)})` };
  // The passwords the measuring will log in with are masked before anything runs.
  for (const secret of await configSecrets(trusted.config, process.env)) io.mask?.(secret);
  const baseConfig = inputs.trustedConfig ? headConfig(trusted, baseText, base.file) : trusted.config;
  const headText = readConfigText(head.text, head.file);
  const headConfigMerged = headConfig(trusted, headText, head.file);
  assertSameMeasurement(baseConfig, headConfigMerged, headText, head.file);
  io.log(
    `baseline: ${inputs.config} at the merge-base ${sha.slice(0, 12)} of ${pr.baseRef}; head: at ${pr.headSha.slice(0, 12)}, knobs only, trusted fields from ${trusted.description}`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'migbench-gate-'));
  const [basePath, headPath] = [join(dir, 'base.json'), join(dir, 'head.json')];
  await writeFile(basePath, `${JSON.stringify(baseConfig, null, 2)}\n`);
  await writeFile(headPath, `${JSON.stringify(headConfigMerged, null, 2)}\n`);
  return { dir, basePath, headPath, head: headConfigMerged, base: baseConfig };
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
/** The label that declares a pull request's change to be one of the hosts' environment. */
export const ENVIRONMENT_CHANGE_LABEL = 'environment-change: expected';

/** The change is declared to be one of the hosts (input or label): judged across environment fingerprints. */
function acrossEnvironments(inputs: ActionInputs, ctx: GateContext): boolean {
  return inputs.environmentChangeExpected || labelled(ctx.payload, ENVIRONMENT_CHANGE_LABEL);
}

function labelled(payload: Record<string, unknown>, name: string): boolean {
  const labels = (payload.pull_request as { labels?: Array<{ name?: unknown }> } | undefined)?.labels;
  return Array.isArray(labels) && labels.some((l) => l?.name === name);
}

async function writeReport(
  measured: Measured,
  judge: { config: MigbenchConfig | null; acrossEnvironments: boolean; baseline: ActionInputs['baseline'] },
  reportPath: string,
): Promise<{ comparison: Comparison | null; markdown: string }> {
  const { base, head } = measured;
  const notes = (measured.missing ?? []).map((m) => `🚨 ${m}`);
  if (!base) {
    const why =
      judge.baseline === 'stored'
        ? 'no stored run of the base branch matches (see below; `store: true` on pushes, or `migbench store`, keeps them)'
        : 'baseline: rerun needs a pull request';
    const list = notes.map((n) => `- ${markdownText(n)}`).join('\n');
    const markdown = `## migbench: live migration\n\nNo baseline to compare with (${why}).\n\n${list ? `${list}\n\n` : ''}${resultsMarkdown(head)}`;
    await writeFile(reportPath, markdown);
    return { comparison: null, markdown };
  }
  const comparison = compareResults(base, head, { ...compareOptions(judge.config), allowEnvironmentChange: judge.acrossEnvironments });
  const labels = { ...(measured.baseLabel && { baseLabel: measured.baseLabel, headLabel: 'this run' }), notes };
  const markdown = compareMarkdown(comparison, { ...labels, fullReport: 'the job summary and the results artifact' });
  await writeFile(reportPath, compareMarkdown(comparison, { ...labels, samples: true, limit: Number.MAX_SAFE_INTEGER }));
  return { comparison, markdown };
}

/** One sticky comment per config (and shard); with comment: on-change, a new one only when something is notable. */
async function comment(
  octokit: Octokit,
  ctx: GateContext,
  pr: PullRequestRef,
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
function failureReason(
  inputs: ActionInputs,
  run: { comparison: Comparison | null; head: ResultsFile; runFailed: boolean; runExit: number; missing: readonly string[] },
): string | null {
  if (inputs.failOn === 'never') return null;
  const reasons = [...(run.comparison ? headFindings(run.comparison) : []), ...run.missing];
  const failedHead = run.head.records.filter((r) => r.status !== 'completed').length;
  if (!run.comparison && failedHead) reasons.push(`${failedHead} of ${run.head.records.length} head runs failed`);
  if (!run.head.records.some((r) => r.status === 'completed')) reasons.push('no head run completed: nothing was measured');
  if (run.runExit === EXIT.badInput || run.runExit === EXIT.infrastructure) reasons.push(exitMeaning(run.runExit).replace(/^> /, '').replaceAll('**', ''));
  if (inputs.failOn === 'threshold' && run.runFailed) reasons.push('a migration failed or a performance assertion did not hold');
  return reasons.length ? [...new Set(reasons)].join('; ') : null;
}
