// The Action's inputs, read by one function that names the input in every error.
import { MigbenchError } from '../model/errors.js';

export type CommentMode = 'always' | 'on-change' | 'never';
export type FailOn = 'regression' | 'threshold' | 'never';

export interface ActionInputs {
  /** @default migbench.yaml (what `migbench init` writes) */
  readonly config: string;
  /**
   * A config on the runner, outside the workspace, holding the trusted fields (targets,
   * credentials, the compare section); the repository's configs then hold the knobs. Unset:
   * the base branch's config is the trusted one.
   */
  readonly trustedConfig: string | undefined;
  /**
   * The pull request changes the hosts (a QEMU, kernel, qemu.conf or libvirt rolled out):
   * judge across environment fingerprints instead of calling every row not comparable.
   * A label `environment-change: expected` on the pull request says the same.
   */
  readonly environmentChangeExpected: boolean;
  /** Suites to run; empty: all of the config's. */
  readonly suites: readonly string[];
  readonly repeat: number | undefined;
  /**
   * `rerun`: an A/B run of the merge-base's config against the head's on this runner.
   * `stored`: the base branch's runs kept on the data branch (migbench store), found by the
   * base's scenario fingerprints and the head's environment. Otherwise a results file (or
   * folder) measured for the base earlier.
   */
  readonly baseline: 'rerun' | 'stored' | { readonly path: string };
  /** The data branch stored runs are kept on. @default migbench-data */
  readonly dataBranch: string;
  /** Stored runs per scenario a stored baseline pools, newest first. @default 5 */
  readonly baselineRuns: number;
  /** On push, schedule and dispatch: keep this ref's results on the data branch (contents: write). @default false */
  readonly store: boolean;
  /** Results already measured for the head (a workflow_run relay): nothing is run. */
  readonly results: string | undefined;
  readonly githubToken: string;
  /** @default on-change */
  readonly comment: CommentMode;
  /** @default regression */
  readonly failOn: FailOn;
  /** This job's share of the scenarios, `i/n` (1-based). */
  readonly shard: { readonly index: number; readonly total: number } | null;
  /** @default migbench-results */
  readonly resultsDir: string;
  /** Run for pull requests from forks on a self-hosted runner. @default false */
  readonly allowForkPullRequests: boolean;
  /** Who posts the comment when the token cannot say itself (github.token, a GitHub App): `<app-slug>[bot]`. @default github-actions[bot] */
  readonly commentAuthor: string;
}

export class InputError extends MigbenchError {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super('MB_USAGE', `input ${input}: ${message}`, { userError: true, context: { input } });
  }
}

type Getter = (name: string) => string;

function oneOf<T extends string>(get: Getter, name: string, allowed: readonly T[], fallback: T): T {
  const value = get(name).trim() || fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new InputError(name, `expected one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

function flag(get: Getter, name: string): boolean {
  const value = get(name).trim().toLowerCase();
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new InputError(name, `expected true or false, got "${value}"`);
}

/** An absolute path: the runner's own file (whether it is outside the workspace is checked by the gate, which knows where that is). */
function trustedConfigInput(value: string): string | undefined {
  if (!value) return undefined;
  if (!value.startsWith('/')) throw new InputError('trusted-config', `expected an absolute path to a file on the runner, outside the workspace, got "${value}"`);
  return value;
}

function dataBranchInput(value: string): string {
  if (!value) return 'migbench-data';
  if (!/^[\w][\w./-]*$/.test(value) || value.includes('..')) throw new InputError('data-branch', `not a branch name: "${value}"`);
  return value;
}

function baselineRunsInput(value: string): number {
  if (!value) return 5;
  if (!/^[1-9]\d{0,2}$/.test(value)) throw new InputError('baseline-runs', `expected a whole number from 1 to 999, got "${value}"`);
  return Number(value);
}

/** `get` is core.getInput in the Action and a plain lookup in tests. */
export function readInputs(get: Getter): ActionInputs {
  const repeatText = get('repeat').trim();
  if (repeatText && !/^[1-9]\d{0,3}$/.test(repeatText)) throw new InputError('repeat', `expected a whole number from 1 to 1000, got "${repeatText}"`);
  const baselineText = get('baseline').trim() || 'rerun';
  const shardText = get('shard').trim();
  let shard: ActionInputs['shard'] = null;
  if (shardText) {
    const m = /^(\d+)\/(\d+)$/.exec(shardText);
    if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new InputError('shard', `expected i/n with 1 ≤ i ≤ n, got "${shardText}"`);
    shard = { index: Number(m[1]), total: Number(m[2]) };
  }
  const comment = oneOf<CommentMode>(get, 'comment', ['always', 'on-change', 'never'], 'on-change');
  const githubToken = get('github-token').trim();
  if (!githubToken && comment !== 'never') throw new InputError('github-token', 'needed to comment on the pull request (or set comment: never)');
  return {
    config: get('config').trim() || 'migbench.yaml',
    trustedConfig: trustedConfigInput(get('trusted-config').trim()),
    environmentChangeExpected: oneOf(get, 'environment-change', ['', 'expected'], '') === 'expected',
    suites: get('suites')
      .split(/[\s,]+/)
      .filter(Boolean),
    repeat: repeatText ? Number(repeatText) : undefined,
    baseline: baselineText === 'rerun' || baselineText === 'stored' ? baselineText : { path: baselineText },
    dataBranch: dataBranchInput(get('data-branch').trim()),
    baselineRuns: baselineRunsInput(get('baseline-runs').trim()),
    store: flag(get, 'store'),
    results: get('results').trim() || undefined,
    githubToken,
    comment,
    failOn: oneOf<FailOn>(get, 'fail-on', ['regression', 'threshold', 'never'], 'regression'),
    shard,
    resultsDir: get('results-dir').trim() || 'migbench-results',
    allowForkPullRequests: flag(get, 'allow-fork-pull-requests'),
    commentAuthor: get('comment-author').trim() || 'github-actions[bot]',
  };
}
