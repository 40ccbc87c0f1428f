// Stored baselines of a branch (main): every run's results file kept on a data branch as
// github-action-benchmark keeps its data, with one index that says, per run, which
// scenarios it measured under which scenario and environment fingerprints. Pure: what the
// index holds, how a run joins it, and which stored runs a head is compared with. The
// data branch itself is read and written by github/store.ts.
import { randomBytes } from 'node:crypto';
import type { MigrationRecord, ResultsFile } from '../generated/results.js';
import { InputFileError, UsageError, type InputIssue as Issue } from './errors.js';
import { environmentFingerprint } from './fingerprint.js';
import { SCHEMA_VERSION } from './results.js';

export const STORE_SCHEMA_VERSION = 1;
/** Where the index lies on the data branch; each run's results file lies beside it, under runs/. */
export const STORE_INDEX_PATH = 'index.json';
/** The data branch, unless the workflow names another. */
export const DEFAULT_STORE_BRANCH = 'migbench-data';
/** How many runs the index keeps (the oldest beyond are dropped, their files deleted). */
export const DEFAULT_STORE_KEEP = 200;

/** One scenario of a stored run: its keys and how many of its runs completed. */
export interface StoredScenario {
  readonly suite: string;
  readonly scenario: string;
  /** null for records written before migbench recorded it: never matched. */
  readonly fingerprint: string | null;
  readonly environment: string;
  readonly completed: number;
  readonly total: number;
}

export interface StoredRun {
  /** `20261207T021500Z-<commit 12>-<4 hex>`: sorts by time; the suffix keeps two shards stored in one second apart. */
  readonly id: string;
  /** The results file, relative to the data branch's root. */
  readonly file: string;
  /** The branch it measured (`refs/heads/main`). */
  readonly ref: string;
  readonly commit: string;
  readonly storedAt: string;
  readonly migbenchVersion: string;
  /** It was itself compared and found a regression: a nightly's baseline leaves it out, so a persisting regression never becomes its own baseline. */
  readonly regressed: boolean;
  /** The workflow run that measured it, when known. */
  readonly runUrl?: string;
  readonly scenarios: readonly StoredScenario[];
}

export interface StoreIndex {
  readonly schemaVersion: typeof STORE_SCHEMA_VERSION;
  /** Oldest first. */
  readonly runs: readonly StoredRun[];
}

export const EMPTY_INDEX: StoreIndex = { schemaVersion: STORE_SCHEMA_VERSION, runs: [] };

export interface RunMeta {
  readonly ref: string;
  readonly commit: string;
  readonly storedAt: Date;
  readonly regressed: boolean;
  readonly runUrl?: string;
}

/** Records by suite and scenario, in first-seen order. */
export function groupByScenario(records: readonly MigrationRecord[]): Map<string, MigrationRecord[]> {
  const groups = new Map<string, MigrationRecord[]>();
  for (const r of records) {
    const key = `${r.suite}\u0000${r.scenario}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return groups;
}

/** The index entry of a results file about to be stored. */
export function storedRun(results: ResultsFile, given: RunMeta): StoredRun {
  const meta = { ...given, commit: given.commit.toLowerCase() };
  if (!/^[0-9a-f]{7,64}$/i.test(meta.commit)) throw new UsageError(`store: not a commit sha: ${JSON.stringify(meta.commit)}`);
  const id = `${meta.storedAt.toISOString().replace(/[-:]|\.\d+/g, '')}-${meta.commit.slice(0, 12)}-${randomBytes(2).toString('hex')}`;
  const scenarios = [...groupByScenario(results.records).values()].map((records): StoredScenario => {
    const first = records[0]!;
    return {
      suite: first.suite,
      scenario: first.scenario,
      fingerprint: first.scenarioFingerprint ?? null,
      environment: environmentFingerprint(records),
      completed: records.filter((r) => r.status === 'completed').length,
      total: records.length,
    };
  });
  return {
    id,
    file: `runs/${id}.json`,
    ref: meta.ref,
    commit: meta.commit,
    storedAt: meta.storedAt.toISOString(),
    migbenchVersion: results.migbenchVersion,
    regressed: meta.regressed,
    ...(meta.runUrl && { runUrl: meta.runUrl }),
    scenarios,
  };
}

/** The index with one more run (newest last), and the runs of its ref dropped beyond `keep` (each ref keeps its own). */
export function addRun(index: StoreIndex, run: StoredRun, keep = DEFAULT_STORE_KEEP): { index: StoreIndex; dropped: StoredRun[] } {
  const runs = [...index.runs.filter((r) => r.id !== run.id), run];
  const ofRef = runs.filter((r) => r.ref === run.ref);
  const dropped = new Set(ofRef.slice(0, Math.max(0, ofRef.length - keep)));
  return { index: { schemaVersion: STORE_SCHEMA_VERSION, runs: runs.filter((r) => !dropped.has(r)) }, dropped: [...dropped] };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The index read from the data branch, checked field by field; `where` names the branch and file in errors. */
export function parseStoreIndex(text: string, where: string): StoreIndex {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InputFileError('MB_RESULTS_INVALID', where, [{ path: '(file)', message: `not JSON: ${(error as Error).message}` }]);
  }
  const issues: Issue[] = [];
  if (!isObject(data) || data.schemaVersion !== STORE_SCHEMA_VERSION)
    throw new InputFileError('MB_RESULTS_INVALID', where, [{ path: 'schemaVersion', message: `expected ${STORE_SCHEMA_VERSION} (a store written by another migbench?)` }]);
  if (!Array.isArray(data.runs)) throw new InputFileError('MB_RESULTS_INVALID', where, [{ path: 'runs', message: 'expected an array' }]);
  data.runs.forEach((run, i) => issues.push(...runIssues(run, `runs[${i}]`)));
  if (issues.length) throw new InputFileError('MB_RESULTS_INVALID', where, issues);
  return data as unknown as StoreIndex;
}

/** A suite or scenario name: printable, one line. */
const NAME = /^[^\p{Cc}]{1,200}$/u;

const RUN_FIELDS: ReadonlyArray<readonly [string, RegExp]> = [
  ['id', /^\d{8}T\d{6}Z-[0-9a-f]{7,12}(-[0-9a-f]{4})?$/],
  ['file', /^runs\/[\w.-]+\.json$/],
  ['ref', /^refs\/[\w./-]+$/],
  ['commit', /^[0-9a-f]{7,64}$/],
  ['storedAt', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/],
  ['migbenchVersion', /^[\w.+-]{1,64}$/],
];

function runIssues(run: unknown, at: string): Issue[] {
  if (!isObject(run)) return [{ path: at, message: 'expected an object' }];
  const issues: Issue[] = [];
  // Everything here reaches logs (where a newline could start a workflow command), Markdown and charts: each field has its exact form.
  for (const [field, pattern] of RUN_FIELDS)
    if (typeof run[field] !== 'string' || !pattern.test(run[field])) issues.push({ path: `${at}.${field}`, message: `expected a string matching ${pattern}` });
  if (typeof run.regressed !== 'boolean') issues.push({ path: `${at}.regressed`, message: 'expected true or false' });
  if (!Array.isArray(run.scenarios)) return [...issues, { path: `${at}.scenarios`, message: 'expected an array' }];
  run.scenarios.forEach((s, j) => {
    const here = `${at}.scenarios[${j}]`;
    if (!isObject(s)) return void issues.push({ path: here, message: 'expected an object' });
    for (const field of ['suite', 'scenario'] as const)
      if (typeof s[field] !== 'string' || !NAME.test(s[field])) issues.push({ path: `${here}.${field}`, message: 'expected a name without control characters' });
    if (typeof s.environment !== 'string' || !/^env:[0-9a-f]{16}$/.test(s.environment)) issues.push({ path: `${here}.environment`, message: 'expected env:<16 hex digits>' });
    if (s.fingerprint !== null && (typeof s.fingerprint !== 'string' || !/^scenario:[0-9a-f]{16}$/.test(s.fingerprint)))
      issues.push({ path: `${here}.fingerprint`, message: 'expected scenario:<16 hex digits> or null' });
    for (const field of ['completed', 'total']) if (!Number.isInteger(s[field])) issues.push({ path: `${here}.${field}`, message: 'expected a whole number' });
  });
  return issues;
}

/** A scenario a head measured, and the keys its baseline must have. */
export interface BaselineWant {
  readonly suite: string;
  readonly scenario: string;
  /** The base's fingerprint of this scenario (the head's own when the config did not change). */
  readonly fingerprint: string;
  /** The head's environment: stored runs measured in it are preferred. */
  readonly environment: string;
}

export interface BaselinePick {
  readonly want: BaselineWant;
  /** Newest first. */
  readonly runs: readonly StoredRun[];
  /** The stored runs' environment is the head's; otherwise the comparison names what differs. */
  readonly sameEnvironment: boolean;
}

export interface BaselineSelection {
  readonly picks: readonly BaselinePick[];
  /** Scenarios with no stored run to compare with, and why, in words. */
  readonly missing: ReadonlyArray<{ readonly want: BaselineWant; readonly why: string }>;
}

export interface SelectOptions {
  /** Only runs of this ref (`refs/heads/main`). */
  readonly ref: string;
  /** At most this many stored runs per scenario, newest first. @default 5 */
  readonly runs?: number;
  /** Leave out runs that were themselves regressions (a nightly's baseline). @default false */
  readonly excludeRegressed?: boolean;
  /**
   * Stored runs of another environment than the head's: `use` the newest such (the
   * comparison names what differs; a nightly's alert notes it), or count the scenario as
   * `missing` (a pull request's gate, unless the change is declared to be one of the hosts).
   * @default use
   */
  readonly otherEnvironment?: 'use' | 'missing';
}

/**
 * For each wanted scenario: the newest stored runs of the ref that measured it under the
 * same scenario fingerprint and completed at least once, from the head's environment when
 * any are; else from the newest other environment (one only, so the comparison can name it).
 */
export function selectBaseline(index: StoreIndex, wants: readonly BaselineWant[], options: SelectOptions): BaselineSelection {
  const limit = options.runs ?? 5;
  const picks: BaselinePick[] = [];
  const missing: Array<{ want: BaselineWant; why: string }> = [];
  const ofRef = index.runs.filter((r) => r.ref === options.ref && !(options.excludeRegressed && r.regressed));
  for (const want of wants) {
    const entry = (run: StoredRun) => run.scenarios.find((s) => s.suite === want.suite && s.scenario === want.scenario);
    const named = ofRef.filter((r) => entry(r));
    const usable = named.filter((r) => entry(r)!.fingerprint === want.fingerprint && entry(r)!.completed > 0).reverse();
    if (!usable.length) {
      missing.push({ want, why: missingWhy(want, named, entry, options) });
      continue;
    }
    const same = usable.filter((r) => entry(r)!.environment === want.environment);
    if (!same.length && options.otherEnvironment === 'missing') {
      const newest = usable[0]!;
      missing.push({
        want,
        why: `the stored runs of ${want.suite} / ${want.scenario} were measured in another environment (${entry(newest)!.environment}, newest ${newest.commit.slice(0, 12)} on ${newest.storedAt}) than this run (${want.environment}): store a run of the base branch on these hosts, or declare the change with environment-change: expected`,
      });
      continue;
    }
    const other = usable.filter((r) => entry(r)!.environment === entry(usable[0]!)!.environment);
    picks.push({ want, runs: (same.length ? same : other).slice(0, limit), sameEnvironment: same.length > 0 });
  }
  return { picks, missing };
}

function missingWhy(want: BaselineWant, named: readonly StoredRun[], entry: (r: StoredRun) => StoredScenario | undefined, options: SelectOptions): string {
  const what = `${want.suite} / ${want.scenario}`;
  if (!named.length) return `no stored run of ${options.ref} measured ${what}${options.excludeRegressed ? ' (regressed runs left out)' : ''}`;
  const newest = named.at(-1)!;
  const e = entry(newest)!;
  if (e.fingerprint === want.fingerprint) return `the stored runs of ${what} with fingerprint ${want.fingerprint} all failed`;
  return `no stored run of ${options.ref} measured ${what} as the base defines it (${want.fingerprint}); the newest, ${newest.commit.slice(0, 12)} on ${newest.storedAt}, measured ${e.fingerprint ?? 'an unknown fingerprint'}: store a run of this config first`;
}

/**
 * One results file of the picked runs' records (each run's records of the picked scenario
 * only): what the comparison takes as the base. `files` holds the stored results by run id.
 */
export function baselineResults(selection: BaselineSelection, files: ReadonlyMap<string, ResultsFile>): ResultsFile {
  const records = selection.picks.flatMap((pick) =>
    pick.runs.flatMap((run) => {
      const file = files.get(run.id);
      if (!file) throw new InputFileError('MB_RESULTS_INVALID', run.file, [{ path: '(file)', message: 'named by the index but not read' }]);
      return file.records.filter((r) => r.suite === pick.want.suite && r.scenario === pick.want.scenario && r.scenarioFingerprint === pick.want.fingerprint);
    }),
  );
  const runs = [...new Map(selection.picks.flatMap((p) => p.runs).map((r) => [r.id, r])).values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  const first = runs[0] && files.get(runs[0].id);
  return {
    schemaVersion: SCHEMA_VERSION,
    migbenchVersion: first?.migbenchVersion ?? 'unknown',
    gitSha: runs.at(-1)?.commit ?? null,
    startedAt: runs[0]?.storedAt ?? new Date(0).toISOString(),
    updatedAt: runs.at(-1)?.storedAt ?? new Date(0).toISOString(),
    config: { path: `stored runs ${runs.map((r) => r.id).join(', ')}`, sha256: first?.config.sha256 ?? '' },
    records,
  };
}

/** What was chosen for each scenario, and what has no stored baseline, in words. */
export function selectionLines(selection: BaselineSelection): string[] {
  return [
    ...selection.picks.map(
      (p) =>
        `${p.want.suite} / ${p.want.scenario}: ${p.runs.length} stored run${p.runs.length === 1 ? '' : 's'} (${p.runs.map((r) => `${r.commit.slice(0, 12)} ${r.storedAt.slice(0, 10)}`).join(', ')})${p.sameEnvironment ? '' : ', measured in another environment'}`,
    ),
    ...selection.missing.map((m) => `${m.want.suite} / ${m.want.scenario}: no stored baseline: ${m.why}`),
  ];
}
