// The Action's GitHub side: one updatable PR comment per config (a hidden marker is the
// key), the PR's merge-base, and one labelled issue while a regression persists on the
// default branch. Pure helpers plus calls that take the octokit client as a parameter;
// no @actions/core here.
import { randomUUID } from 'node:crypto';
import Bottleneck from 'bottleneck/light.js';
import { Octokit, RequestError } from 'octokit';
import { UsageError } from '../model/errors.js';

// Client

/** Where the client's messages go; every message is stripped of the token first. */
export interface GitHubLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface GitHubClientOptions {
  /** A token allowed to write issues and pull requests (`github.token` on a same-repo PR). */
  readonly token: string;
  /**
   * REST API root, `GITHUB_API_URL` in a job (`https://HOST/api/v3` on GitHub Enterprise Server).
   * @default 'https://api.github.com'
   */
  readonly baseUrl?: string;
  /** @default 'migbench' */
  readonly userAgent?: string;
  /** @default debug and info dropped, warn and error to the console */
  readonly log?: GitHubLog;
  /**
   * How many times a request refused by a secondary rate limit is retried, after the
   * wait GitHub asks for (its `retry-after`, 60 s when absent).
   * @default 2
   */
  readonly rateLimitRetries?: number;
  /**
   * Milliseconds per second of every wait GitHub asks for: its `retry-after`, the back-off
   * before retrying a 5xx, and the spacing of writes (1 s apart, 3 s for writes that
   * notify, 2 s for searches). Only tests change it.
   * @default 1000
   */
  readonly waitUnitMs?: number;
}

/** A primary rate limit is waited out only when it resets this soon; a CI job should not sleep for an hour. */
const MAX_PRIMARY_RATE_LIMIT_WAIT_S = 60;

/**
 * An Octokit client (REST methods, pagination, retries of 5xx, throttling). Requests
 * refused by a secondary rate limit are retried `rateLimitRetries` times, and each retry
 * is logged with the method and route only, never headers, so the token stays out of
 * the log.
 */
export function createGitHubClient(options: GitHubClientOptions): Octokit {
  const token = options.token?.trim();
  if (!token) throw new UsageError('a GitHub token is required to comment on pull requests and issues (usually ${{ github.token }})');
  const retries = options.rateLimitRetries ?? 2;
  const unitMs = options.waitUnitMs ?? 1000;
  const log = redactingLog(options.log ?? consoleLog, token);
  return new Octokit({
    auth: token,
    baseUrl: (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: options.userAgent ?? 'migbench',
    log,
    // plugin-retry's list, plus 409: a conflict (a file changed under a write) is never
    // transient, and the same request sent again only conflicts again.
    retry: { retryAfterBaseValue: unitMs, doNotRetry: [400, 401, 403, 404, 409, 410, 422, 451] },
    throttle: {
      // Limiters of this client's own keep the spacing GitHub asks for (1 s between
      // writes, 3 s between writes that notify, 2 s between searches) without one client
      // waiting on another's writes; the plugin's own are shared by every client.
      id: `migbench-${randomUUID()}`,
      ...spacing(unitMs),
      retryAfterBaseValue: unitMs,
      onSecondaryRateLimit: (retryAfterS: number, request: LimitedRequest, _octokit: unknown, retryCount: number) => {
        const route = routeOf(request);
        if (retryCount < retries) {
          log.warn(`GitHub secondary rate limit on ${route}: retrying in ${retryAfterS} s (retry ${retryCount + 1} of ${retries})`);
          return true;
        }
        log.error(`GitHub secondary rate limit on ${route}: giving up after ${retries} retries`);
        return false;
      },
      onRateLimit: (retryAfterS: number, request: LimitedRequest, _octokit: unknown, retryCount: number) => {
        const route = routeOf(request);
        if (retryCount < retries && retryAfterS <= MAX_PRIMARY_RATE_LIMIT_WAIT_S) {
          log.warn(`GitHub rate limit exhausted on ${route}: retrying in ${retryAfterS} s (retry ${retryCount + 1} of ${retries})`);
          return true;
        }
        log.error(`GitHub rate limit exhausted on ${route}: it resets in ${retryAfterS} s; not waiting`);
        return false;
      },
    },
  });
}

/** The throttling plugin's request limiters, as it makes them, in `unitMs` per second. */
function spacing(unitMs: number) {
  const group = (minSeconds: number) => new Bottleneck.Group({ maxConcurrent: 1, minTime: minSeconds * unitMs, timeout: 120_000 });
  return { write: group(1), notifications: group(3), search: group(2) };
}

/** What the throttling plugin's handlers receive of the refused request. */
interface LimitedRequest {
  readonly method: string;
  /** A route template (`/repos/{owner}/…`), or an absolute URL for the pages after the first. */
  readonly url: string;
}

/** Method and path for the log: never headers, and no host. */
function routeOf(request: LimitedRequest): string {
  const url = /^https?:\/\//.test(request.url) ? new URL(request.url) : null;
  return `${request.method} ${url ? `${url.pathname}${url.search}` : request.url}`;
}

const consoleLog: GitHubLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** Octokit's plugins log (message, extra…); everything becomes one string without the token. */
function redactingLog(log: GitHubLog, token: string): Octokit['log'] {
  const redact = (parts: unknown[]): string =>
    parts
      .map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : safeJson(p)))
      .join(' ')
      .split(token)
      .join('***');
  return {
    debug: (...parts: unknown[]) => log.debug(redact(parts)),
    info: (...parts: unknown[]) => log.info(redact(parts)),
    warn: (...parts: unknown[]) => log.warn(redact(parts)),
    error: (...parts: unknown[]) => log.error(redact(parts)),
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** A GitHub API call failed, or answered something migbench cannot use. */
export class GitHubApiError extends Error {
  readonly code = 'MB_GITHUB';
  /** The HTTP status GitHub answered, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
  }
}

/** One API request; a failure becomes a GitHubApiError that says what was being done. */
export async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw apiError(what, error);
  }
}

function apiError(what: string, error: unknown): GitHubApiError {
  if (!(error instanceof RequestError)) return new GitHubApiError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  // RequestError's message is GitHub's own ("Not Found - https://docs.github.com/…"); its
  // request headers are already redacted.
  let hint = '';
  if (error.status === 401) hint = ' (the token is invalid or expired)';
  else if (error.status === 403 && /not accessible by integration/i.test(error.message))
    hint = ' (the token may not write here: a pull request from a fork gets a read-only GITHUB_TOKEN; comment from a workflow_run or pull_request_target workflow instead)';
  return new GitHubApiError(`${what}: GitHub answered ${error.status}: ${error.message}${hint}`, { status: error.status, cause: error });
}

// Sticky comment

/** GitHub refuses comment and issue bodies longer than this many characters. */
export const GITHUB_BODY_LIMIT_CHARS = 65_536;

export const TRUNCATION_NOTE = '…truncated; the full report is in the job summary/artifact';

const STICKY_ID = /^[A-Za-z0-9._/-]{1,200}$/;

/**
 * The hidden HTML comment that marks migbench's comment for one config or suite. The id
 * is restricted to `[A-Za-z0-9._/-]` so it can never close the HTML comment or read as markup.
 */
export function stickyMarker(id: string): string {
  if (!STICKY_ID.test(id)) throw new UsageError(`sticky comment id ${JSON.stringify(id)} is invalid: use 1 to 200 of the characters A-Z a-z 0-9 . _ / -`);
  return `<!-- migbench:sticky:${id} -->`;
}

export interface FittedBody {
  readonly body: string;
  readonly truncated: boolean;
}

/**
 * `body` followed by `suffix`, strictly shorter than `limit` characters. A body that does
 * not fit is cut at the last whole line that does, open code fences and `<details>` are
 * closed, and `note` follows on its own paragraph. Characters are counted as UTF-16 code
 * units, which is never fewer than GitHub counts.
 */
export function fitBody(body: string, options: { suffix?: string; limit?: number; note?: string } = {}): FittedBody {
  const suffix = options.suffix ?? '';
  const limit = options.limit ?? GITHUB_BODY_LIMIT_CHARS;
  const noteBlock = `\n\n${options.note ?? TRUNCATION_NOTE}`;
  const whole = `${body.trimEnd()}${suffix}`;
  if (whole.length < limit) return { body: whole, truncated: false };

  let budget = limit - 1 - suffix.length - noteBlock.length;
  for (;;) {
    if (budget <= 0) throw new UsageError(`a body limited to ${limit} characters has no room for its note and marker`);
    const kept = cutAtLine(body, budget).trimEnd();
    const fitted = `${kept}${closers(kept)}${noteBlock}${suffix}`;
    if (fitted.length < limit) return { body: fitted, truncated: true };
    budget -= fitted.length - limit + 1;
  }
}

/** The longest prefix of `text` no longer than `max` that ends at a line break (or anywhere, for one huge line). */
function cutAtLine(text: string, max: number): string {
  const head = text.slice(0, max);
  // The cut falls at a line boundary when the next character is a line break.
  if (text[max] === '\n') return head;
  const newline = head.lastIndexOf('\n');
  if (newline > 0) return head.slice(0, newline);
  const last = head.charCodeAt(head.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? head.slice(0, -1) : head;
}

/** What closes the code fence and `<details>` blocks a cut left open. */
function closers(kept: string): string {
  let fence: string | null = null;
  let details = 0;
  for (const line of kept.split('\n')) {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && opener) fence = opener;
    else if (fence !== null && opener && opener[0] === fence[0] && opener.length >= fence.length && line.trim() === opener) fence = null;
    else if (fence === null) details += (line.match(/<details[\s>]/gi)?.length ?? 0) - (line.match(/<\/details>/gi)?.length ?? 0);
  }
  return `${fence === null ? '' : `\n${fence}`}${'\n</details>'.repeat(Math.max(0, details))}`;
}

/** The whole body of a sticky comment: the (fitted) report, then the marker last. */
export function stickyBody(body: string, id: string, note?: string): FittedBody {
  return fitBody(body, { suffix: `\n\n${stickyMarker(id)}`, ...(note !== undefined && { note }) });
}

export interface IssueComment {
  readonly id: number;
  readonly body?: string | null;
  readonly user?: { readonly login: string } | null;
  readonly created_at: string;
}

/**
 * The newest comment whose body ends with the marker of `id` (and, when `login` is given,
 * written by that user: another bot's comment carrying the same marker is never ours).
 */
export function findStickyComment<C extends IssueComment>(comments: readonly C[], id: string, login?: string): C | undefined {
  const marker = stickyMarker(id);
  const author = login?.toLowerCase();
  return comments
    .filter((c) => (c.body ?? '').trimEnd().endsWith(marker) && (author === undefined || c.user?.login.toLowerCase() === author))
    .reduce<C | undefined>(
      (newest, c) => (!newest || Date.parse(c.created_at) > Date.parse(newest.created_at) || (c.created_at === newest.created_at && c.id > newest.id) ? c : newest),
      undefined,
    );
}

export interface StickyCommentOptions {
  readonly owner: string;
  readonly repo: string;
  /** The pull request (or issue) number. */
  readonly issueNumber: number;
  /** Names the config or suite: one comment per id. */
  readonly id: string;
  /** Markdown; the marker is appended, and the body is cut to fit GitHub's limit. */
  readonly body: string;
  /** Only a comment by this user is updated (`github-actions[bot]` for `github.token`). */
  readonly login?: string;
  /** @default TRUNCATION_NOTE */
  readonly truncationNote?: string;
  /** Update an existing comment but create none (comment: on-change, with nothing to say). */
  readonly onlyUpdate?: boolean;
}

export interface StickyCommentResult {
  readonly commentId: number | null;
  readonly action: 'created' | 'updated' | 'unchanged' | 'skipped';
  /** The body was cut to fit; the full report must be published elsewhere. */
  readonly truncated: boolean;
}

/**
 * Who the token comments as, so that only a comment of our own is ever updated (anyone may
 * post a comment carrying the marker). A personal token reads its user from GET /user;
 * github.token and GitHub App tokens may not (403 "not accessible by integration"), and
 * then `appLogin` is who they post as: github-actions[bot], or the App's `<slug>[bot]`.
 */
export async function commentLogin(octokit: Octokit, appLogin: string): Promise<string> {
  try {
    return (await octokit.rest.users.getAuthenticated()).data.login;
  } catch (error) {
    if (error instanceof RequestError && (error.status === 403 || error.status === 404)) return appLogin;
    throw apiError('asking GitHub who the token acts as (GET /user)', error);
  }
}

/**
 * Creates migbench's comment for `id` on the pull request, or updates the existing one
 * (the newest, should a past race have left several; none is deleted). An identical body
 * is left alone.
 */
export async function upsertStickyComment(octokit: Octokit, options: StickyCommentOptions): Promise<StickyCommentResult> {
  const { owner, repo, issueNumber } = options;
  const { body, truncated } = stickyBody(options.body, options.id, options.truncationNote);
  const where = `${owner}/${repo}#${issueNumber}`;
  const comments = await call(`listing the comments of ${where}`, () =>
    octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 }),
  );
  const existing = findStickyComment(comments, options.id, options.login);
  if (existing && existing.body === body) return { commentId: existing.id, action: 'unchanged', truncated };
  if (existing) {
    await call(`updating comment ${existing.id} on ${where}`, () => octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body }));
    return { commentId: existing.id, action: 'updated', truncated };
  }
  if (options.onlyUpdate) return { commentId: null, action: 'skipped', truncated };
  const created = await call(`commenting on ${where}`, () => octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body }));
  return { commentId: created.data.id, action: 'created', truncated };
}

// Merge-base

/**
 * The commit a pull request's changes start from: the merge-base of `base` and `head`
 * from the compare API. `pull_request.base.sha` is the base branch's tip when the event
 * fired, not this commit.
 */
export async function mergeBase(octokit: Octokit, options: { owner: string; repo: string; base: string; head: string }): Promise<string> {
  const { owner, repo, base, head } = options;
  if (!base || !head) throw new UsageError(`the merge-base needs both refs (base ${JSON.stringify(base)}, head ${JSON.stringify(head)})`);
  const what = `finding the merge-base of ${base} and ${head} in ${owner}/${repo}`;
  // per_page 1: only merge_base_commit is wanted, not the commits and files between.
  const { data } = await call(what, () => octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${base}...${head}`, per_page: 1 }));
  const sha = (data as { merge_base_commit?: { sha?: unknown } | null }).merge_base_commit?.sha;
  if (typeof sha !== 'string' || !sha) throw new GitHubApiError(`${what}: the compare API answered without a merge_base_commit`);
  return sha;
}

/** Config files are small; a larger answer is not a config (and is not read into memory whole). */
export const FILE_AT_REF_LIMIT_BYTES = 1024 * 1024;

/**
 * A file of the repository at a commit, as text, read through the contents API: how the
 * gate reads a pull request's config as data without checking its tree out. null when the
 * file is not there at that commit.
 */
export async function fileAtRef(octokit: Octokit, options: { owner: string; repo: string; path: string; ref: string }): Promise<string | null> {
  const { owner, repo, path, ref } = options;
  const what = `reading ${path} at ${ref.slice(0, 12)} in ${owner}/${repo}`;
  let data: unknown;
  try {
    ({ data } = await call(what, () => octokit.rest.repos.getContent({ owner, repo, path, ref })));
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 404) return null;
    throw error;
  }
  const file = data as { type?: unknown; encoding?: unknown; content?: unknown; size?: unknown };
  if (file.type !== 'file' || file.encoding !== 'base64' || typeof file.content !== 'string') throw new GitHubApiError(`${what}: not a file`);
  if (typeof file.size === 'number' && file.size > FILE_AT_REF_LIMIT_BYTES)
    throw new GitHubApiError(`${what}: ${file.size} bytes, larger than a config (${FILE_AT_REF_LIMIT_BYTES})`);
  return Buffer.from(file.content, 'base64').toString('utf8');
}

// Regression issue

/** Colour of the label migbench creates: GitHub's red. */
export const REGRESSION_LABEL_COLOR = 'd73a4a';

export const RECOVERED_NOTE = 'Recovered: the latest run no longer shows this regression. Closing.';

export interface RegressionIssueOptions {
  readonly owner: string;
  readonly repo: string;
  /** The label that identifies migbench's issue; created when missing. */
  readonly label: string;
  /** Used when the issue is opened; an open issue keeps its (possibly edited) title. */
  readonly title: string;
  /** The current report: the issue's body while regressed, the comment's otherwise. */
  readonly body: string;
  /**
   * regressed: open or update the issue. recovered: close it with a comment. environment
   * changed (the hosts are not the ones the baseline ran on, so nothing could be judged):
   * a comment saying so on an open issue, which stays open.
   */
  readonly state: 'regressed' | 'recovered' | 'environment-changed';
}

export interface RegressionIssueResult {
  /** null when there was nothing to do. */
  readonly issueNumber: number | null;
  readonly action: 'opened' | 'updated' | 'noted' | 'closed' | 'none';
}

export const ENVIRONMENT_CHANGED_NOTE =
  "The hosts' environment changed since the baseline, so this run could not be compared with it; the issue stays open until a comparable run recovers.";

/**
 * Keeps one open issue, labelled `label`, while a regression persists: opened on the
 * first regressed run, its body replaced on the next ones, a comment (the issue kept open)
 * on a run whose environment changed, and closed with a comment on the first run that
 * recovers. With several open (a past race) the oldest is the one.
 */
export async function upsertRegressionIssue(octokit: Octokit, options: RegressionIssueOptions): Promise<RegressionIssueResult> {
  const { owner, repo, label } = options;
  const issues = await call(`listing the open issues labelled ${JSON.stringify(label)} in ${owner}/${repo}`, () =>
    octokit.paginate(octokit.rest.issues.listForRepo, { owner, repo, labels: label, state: 'open', per_page: 100 }),
  );
  const open = issues
    .filter((i) => !i.pull_request && i.state === 'open')
    .reduce<(typeof issues)[number] | undefined>((oldest, i) => (!oldest || i.number < oldest.number ? i : oldest), undefined);

  if (options.state === 'regressed') {
    const body = fitBody(options.body).body;
    if (open) {
      await call(`updating issue ${owner}/${repo}#${open.number}`, () => octokit.rest.issues.update({ owner, repo, issue_number: open.number, body }));
      return { issueNumber: open.number, action: 'updated' };
    }
    await ensureLabel(octokit, owner, repo, label);
    const created = await call(`opening an issue in ${owner}/${repo}`, () => octokit.rest.issues.create({ owner, repo, title: options.title, body, labels: [label] }));
    return { issueNumber: created.data.number, action: 'opened' };
  }

  if (!open) return { issueNumber: null, action: 'none' };
  const where = `${owner}/${repo}#${open.number}`;
  if (options.state === 'environment-changed') {
    const note = fitBody(`${ENVIRONMENT_CHANGED_NOTE}\n\n${options.body}`).body;
    await call(`commenting on ${where}`, () => octokit.rest.issues.createComment({ owner, repo, issue_number: open.number, body: note }));
    return { issueNumber: open.number, action: 'noted' };
  }
  const comment = fitBody(options.body.trim() ? `${RECOVERED_NOTE}\n\n${options.body}` : RECOVERED_NOTE).body;
  await call(`commenting on ${where}`, () => octokit.rest.issues.createComment({ owner, repo, issue_number: open.number, body: comment }));
  await call(`closing ${where}`, () => octokit.rest.issues.update({ owner, repo, issue_number: open.number, state: 'closed', state_reason: 'completed' }));
  return { issueNumber: open.number, action: 'closed' };
}

/** Creates the label, with migbench's colour, unless it exists (or another run just created it). */
async function ensureLabel(octokit: Octokit, owner: string, repo: string, name: string): Promise<void> {
  try {
    await octokit.rest.issues.getLabel({ owner, repo, name });
    return;
  } catch (error) {
    if (!(error instanceof RequestError && error.status === 404)) throw apiError(`looking up the label ${JSON.stringify(name)} in ${owner}/${repo}`, error);
  }
  try {
    await octokit.rest.issues.createLabel({ owner, repo, name, color: REGRESSION_LABEL_COLOR, description: 'A performance regression found by migbench' });
  } catch (error) {
    // 422 already_exists: a concurrent run created it first.
    if (!(error instanceof RequestError && error.status === 422)) throw apiError(`creating the label ${JSON.stringify(name)} in ${owner}/${repo}`, error);
  }
}
