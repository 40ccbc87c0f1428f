// `migbench store`, `baseline` and `history`: a branch's runs kept on a data branch of its
// repository (github/store.ts), the stored runs a head is compared with, and the last runs
// drawn. The token comes from GITHUB_TOKEN only, never from the command line.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Octokit } from 'octokit';
import { buildHistory } from '../analysis/history.js';
import { baselineWants } from '../config/baseline.js';
import { loadConfig } from '../config/load.js';
import { createGitHubClient } from '../github/api.js';
import { fetchBaseline, fetchRecentRuns, storeResults, type DataBranch } from '../github/store.js';
import { UsageError } from '../model/errors.js';
import { readResults, RESULTS_FILE, resultsPath } from '../model/results.js';
import { selectionLines } from '../model/store.js';
import { historyHtml, historyMarkdown } from '../render/history.js';
import type { BaselineOptions, DataBranchOptions, HistoryOptions, StoreOptions } from './args.js';
import type { Io } from './run.js';

/** A client for GitHub's API from the job's environment: GITHUB_TOKEN, and GITHUB_API_URL on GitHub Enterprise Server. */
export function githubFromEnvironment(command: string, needs: string, io: Io): Octokit {
  const token = process.env.GITHUB_TOKEN;
  if (!token) throw new UsageError(`${command} needs a token in GITHUB_TOKEN (${needs}); it is never taken from the command line`);
  return createGitHubClient({
    token,
    ...(process.env.GITHUB_API_URL && { baseUrl: process.env.GITHUB_API_URL }),
    log: { debug: () => undefined, info: io.log, warn: io.log, error: io.log },
  });
}

function dataBranch(o: DataBranchOptions): DataBranch {
  const [owner, repo] = o.repository.split('/') as [string, string];
  return { owner, repo, branch: o.branch };
}

export async function store(o: StoreOptions, io: Io): Promise<number> {
  const results = await readResults(await resultsPath(o.results));
  if (!results.records.length) throw new UsageError(`store: ${o.results} holds no records: nothing to keep`);
  const octokit = githubFromEnvironment('store', 'contents: write on the repository', io);
  const meta = { ref: o.ref, commit: o.commit, storedAt: new Date(), regressed: o.regressed, ...(o.runUrl && { runUrl: o.runUrl }) };
  const { run, dropped } = await storeResults(octokit, dataBranch(o), results, meta, { log: io.log, ...(o.keep && { keep: o.keep }) });
  const scenarios = run.scenarios.map((s) => `${s.scenario} (${s.completed}/${s.total}, ${s.fingerprint ?? 'no fingerprint'}, ${s.environment})`);
  io.out(
    `stored ${run.id} on ${o.repository}@${o.branch}: ${o.ref} at ${o.commit.slice(0, 12)}${o.regressed ? ', judged a regression' : ''}; ${scenarios.join('; ')}${dropped.length ? `; dropped ${dropped.length} old run${dropped.length === 1 ? '' : 's'}` : ''}\n`,
  );
  return 0;
}

export async function baseline(o: BaselineOptions, io: Io): Promise<number> {
  const head = await readResults(await resultsPath(o.head));
  const base = o.config ? (await loadConfig(o.config)).config : null;
  const { wants, new: fresh } = baselineWants(head, base);
  for (const s of fresh) io.log(`${s.suite} / ${s.scenario}: ${base ? 'not in the base config (new)' : 'its records carry no fingerprint'}: no baseline looked for`);
  const octokit = githubFromEnvironment('baseline', 'contents: read on the repository', io);
  const { results, selection } = await fetchBaseline(octokit, dataBranch(o), wants, { ref: o.ref, runs: o.runs, excludeRegressed: o.excludeRegressed });
  for (const line of selectionLines(selection)) io.log(line);
  if (!results) {
    io.out(`no stored baseline for any scenario on ${o.repository}@${o.branch} (${o.ref}): nothing written\n`);
    return 0;
  }
  // As stored: their migbench version and commits stay theirs (each file was validated when read).
  const path = join(o.out, RESULTS_FILE);
  await mkdir(o.out, { recursive: true });
  await writeFile(path, `${JSON.stringify(results, null, 2)}\n`);
  io.out(`${path}: ${results.records.length} records from ${new Set(selection.picks.flatMap((p) => p.runs.map((r) => r.id))).size} stored runs\n`);
  return 0;
}

export async function history(o: HistoryOptions, io: Io): Promise<number> {
  const octokit = githubFromEnvironment('history', 'contents: read on the repository', io);
  const { runs, files } = await fetchRecentRuns(octokit, dataBranch(o), { ref: o.ref, last: o.last });
  const built = buildHistory(runs, files);
  const source = `${o.ref.replace(/^refs\/heads\//, '')} (data branch ${o.branch} of ${o.repository})`;
  await mkdir(o.out, { recursive: true });
  const markdown = historyMarkdown(built, source);
  await writeFile(join(o.out, 'history.md'), markdown);
  await writeFile(join(o.out, 'history.html'), historyHtml(built, source));
  io.out(markdown);
  return 0;
}
