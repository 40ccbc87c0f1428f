// The data branch that keeps a branch's results (model/store.ts says what it holds): read
// and written through the contents API only, so storing needs a token that may write
// contents and nothing checked out. The branch is made on first use, as an orphan with a
// README; each run is one file under runs/, then the index is updated against its blob
// sha (a concurrent writer's update is read again and joined, never overwritten).
import type { Octokit } from 'octokit';
import type { ResultsFile } from '../generated/results.js';
import { parseResults } from '../model/results.js';
import {
  addRun,
  baselineResults,
  EMPTY_INDEX,
  parseStoreIndex,
  selectBaseline,
  STORE_INDEX_PATH,
  storedRun,
  type BaselineSelection,
  type BaselineWant,
  type RunMeta,
  type SelectOptions,
  type StoreIndex,
  type StoredRun,
} from '../model/store.js';
import { call, GitHubApiError } from './api.js';

export interface DataBranch {
  readonly owner: string;
  readonly repo: string;
  readonly branch: string;
}

const where = (b: DataBranch, path: string) => `${b.owner}/${b.repo}@${b.branch}:${path}`;

/** How many times the index update is tried when another writer got there first. */
const INDEX_ATTEMPTS = 5;

const README = `# migbench data

Results of the runs of this repository's branches, kept by \`migbench store\` (one file per
run under runs/, listed in index.json with the scenario and environment fingerprints
they were measured under). \`baseline: stored\` and \`migbench baseline\` compare with them;
\`migbench history\` plots them. Written by migbench only; nothing here is executed.
`;

interface FileAt {
  readonly text: string;
  readonly sha: string;
}

/** A file of the data branch with its blob sha; null when the file (or the branch) is not there. */
async function readFile(octokit: Octokit, b: DataBranch, path: string): Promise<FileAt | null> {
  const what = `reading ${where(b, path)}`;
  let data: unknown;
  try {
    ({ data } = await call(what, () => octokit.rest.repos.getContent({ owner: b.owner, repo: b.repo, path, ref: b.branch })));
  } catch (error) {
    if (error instanceof GitHubApiError && error.status === 404) return null;
    throw error;
  }
  const file = data as { type?: unknown; encoding?: unknown; content?: unknown; sha?: unknown };
  if (file.type !== 'file' || typeof file.sha !== 'string') throw new GitHubApiError(`${what}: not a file`);
  // Files over 1 MB come without content in this form: their bytes are asked for raw.
  if (file.encoding === 'base64' && typeof file.content === 'string') return { text: Buffer.from(file.content, 'base64').toString('utf8'), sha: file.sha };
  return { text: await readRaw(octokit, b, path), sha: file.sha };
}

async function readRaw(octokit: Octokit, b: DataBranch, path: string): Promise<string> {
  const { data } = await call(`reading ${where(b, path)}`, () =>
    octokit.rest.repos.getContent({ owner: b.owner, repo: b.repo, path, ref: b.branch, mediaType: { format: 'raw' } }),
  );
  return typeof data === 'string' ? data : Buffer.from(data as unknown as ArrayBuffer).toString('utf8');
}

/** The index of the data branch; empty when the branch or the index is not there yet. */
export async function readStoreIndex(octokit: Octokit, b: DataBranch): Promise<{ index: StoreIndex; sha: string | null }> {
  const file = await readFile(octokit, b, STORE_INDEX_PATH);
  return file ? { index: parseStoreIndex(file.text, where(b, STORE_INDEX_PATH)), sha: file.sha } : { index: EMPTY_INDEX, sha: null };
}

/** A stored run's results file, validated like any results file. */
export async function readStoredResults(octokit: Octokit, b: DataBranch, run: StoredRun): Promise<ResultsFile> {
  const file = await readFile(octokit, b, run.file);
  if (!file) throw new GitHubApiError(`reading ${where(b, run.file)}: the index names it, but it is not on the branch`);
  let data: unknown;
  try {
    data = JSON.parse(file.text);
  } catch (error) {
    throw new GitHubApiError(`reading ${where(b, run.file)}: not JSON (${(error as Error).message})`);
  }
  return parseResults(data, where(b, run.file));
}

/** The data branch, made as an orphan holding a README when it is not there. */
async function ensureBranch(octokit: Octokit, b: DataBranch, log: (line: string) => void): Promise<void> {
  const repo = { owner: b.owner, repo: b.repo };
  try {
    await call(`looking up branch ${b.branch} of ${b.owner}/${b.repo}`, () => octokit.rest.git.getRef({ ...repo, ref: `heads/${b.branch}` }));
    return;
  } catch (error) {
    if (!(error instanceof GitHubApiError && error.status === 404)) throw error;
  }
  const what = `creating branch ${b.branch} of ${b.owner}/${b.repo}`;
  const { data: tree } = await call(what, () => octokit.rest.git.createTree({ ...repo, tree: [{ path: 'README.md', mode: '100644', type: 'blob', content: README }] }));
  const { data: commit } = await call(what, () => octokit.rest.git.createCommit({ ...repo, message: 'migbench data branch', tree: tree.sha, parents: [] }));
  try {
    await call(what, () => octokit.rest.git.createRef({ ...repo, ref: `refs/heads/${b.branch}`, sha: commit.sha }));
  } catch (error) {
    // Another run made it between our lookup and now: theirs is as good.
    if (error instanceof GitHubApiError && error.status === 422) return log(`store: branch ${b.branch} was made meanwhile by another run`);
    throw error;
  }
  log(`store: created branch ${b.branch} (an orphan: results only)`);
}

async function putFile(octokit: Octokit, b: DataBranch, path: string, text: string, message: string, sha: string | null): Promise<void> {
  await call(`writing ${where(b, path)}`, () =>
    octokit.rest.repos.createOrUpdateFileContents({
      owner: b.owner,
      repo: b.repo,
      path,
      branch: b.branch,
      message,
      content: Buffer.from(text).toString('base64'),
      ...(sha && { sha }),
    }),
  );
}

/** 409 (the blob changed under us) and 422 (created meanwhile, so a sha is now wanted): read again. */
const isConflict = (error: unknown) => error instanceof GitHubApiError && (error.status === 409 || error.status === 422);

export interface StoreResult {
  readonly run: StoredRun;
  readonly dropped: readonly StoredRun[];
}

/**
 * Stores a results file on the data branch: the run's file, then the index with it added
 * (read again and retried when another writer updated it meanwhile), then the files of runs
 * the index no longer keeps are deleted (a file that cannot be is left and said: harmless).
 */
export async function storeResults(
  octokit: Octokit,
  b: DataBranch,
  results: ResultsFile,
  meta: RunMeta,
  options: { keep?: number; log: (line: string) => void },
): Promise<StoreResult> {
  const run = storedRun(results, meta);
  await ensureBranch(octokit, b, options.log);
  await retryOnConflict(
    () => putFile(octokit, b, run.file, `${JSON.stringify(results)}\n`, `store ${run.id} (${meta.ref} at ${meta.commit.slice(0, 12)})`, null),
    run.file,
    options.log,
  );
  const dropped = await updateIndex(octokit, b, run, options);
  for (const old of dropped) await deleteRun(octokit, b, old, options.log);
  return { run, dropped };
}

/**
 * A new file's write, again when the branch moved under it (GitHub answers 409 to a write
 * that raced another commit to the branch, even of another file).
 */
async function retryOnConflict(write: () => Promise<void>, path: string, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof GitHubApiError && error.status === 409) || attempt >= INDEX_ATTEMPTS) throw error;
      log(`store: the branch moved while ${path} was written: writing it again (attempt ${attempt + 1} of ${INDEX_ATTEMPTS})`);
    }
  }
}

async function updateIndex(octokit: Octokit, b: DataBranch, run: StoredRun, options: { keep?: number; log: (line: string) => void }): Promise<StoredRun[]> {
  for (let attempt = 1; ; attempt++) {
    const { index, sha } = await readStoreIndex(octokit, b);
    const next = addRun(index, run, options.keep);
    try {
      await putFile(octokit, b, STORE_INDEX_PATH, `${JSON.stringify(next.index, null, 1)}\n`, `index: add ${run.id}`, sha);
      return next.dropped;
    } catch (error) {
      if (!isConflict(error) || attempt >= INDEX_ATTEMPTS) throw error;
      options.log(`store: ${STORE_INDEX_PATH} changed while it was written (another run storing?): reading it again (attempt ${attempt + 1} of ${INDEX_ATTEMPTS})`);
    }
  }
}

async function deleteRun(octokit: Octokit, b: DataBranch, run: StoredRun, log: (line: string) => void): Promise<void> {
  try {
    // The blob sha only (a large file's bytes are not fetched to delete it).
    const { data } = await call(`reading ${where(b, run.file)}`, () => octokit.rest.repos.getContent({ owner: b.owner, repo: b.repo, path: run.file, ref: b.branch }));
    const sha = (data as { sha?: unknown }).sha;
    if (typeof sha !== 'string') throw new GitHubApiError(`reading ${where(b, run.file)}: not a file`);
    await call(`deleting ${where(b, run.file)}`, () =>
      octokit.rest.repos.deleteFile({ owner: b.owner, repo: b.repo, path: run.file, branch: b.branch, message: `drop ${run.id} (beyond the runs kept)`, sha }),
    );
  } catch (error) {
    log(`store: ${run.file} is no longer in the index but could not be deleted (${(error as Error).message}); it does no harm`);
  }
}

export interface FetchedBaseline {
  /** The picked runs' records as one results file; null when no scenario has a stored baseline. */
  readonly results: ResultsFile | null;
  readonly selection: BaselineSelection;
}

/** The stored runs each wanted scenario is compared with (model/store.ts selectBaseline), read from the data branch. */
export async function fetchBaseline(octokit: Octokit, b: DataBranch, wants: readonly BaselineWant[], options: SelectOptions): Promise<FetchedBaseline> {
  const { index } = await readStoreIndex(octokit, b);
  const selection = selectBaseline(index, wants, options);
  const runs = [...new Map(selection.picks.flatMap((p) => p.runs).map((r) => [r.id, r])).values()];
  const files = new Map<string, ResultsFile>();
  for (const run of runs) files.set(run.id, await readStoredResults(octokit, b, run));
  return { results: selection.picks.length ? baselineResults(selection, files) : null, selection };
}

/** The newest `last` stored runs of a ref (oldest first) with their results files, for the history. */
export async function fetchRecentRuns(octokit: Octokit, b: DataBranch, options: { ref: string; last: number }): Promise<{ runs: StoredRun[]; files: Map<string, ResultsFile> }> {
  const { index } = await readStoreIndex(octokit, b);
  const runs = index.runs.filter((r) => r.ref === options.ref).slice(-options.last);
  const files = new Map<string, ResultsFile>();
  for (const run of runs) files.set(run.id, await readStoredResults(octokit, b, run));
  return { runs, files };
}
