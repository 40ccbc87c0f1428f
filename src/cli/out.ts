// Where a run writes its results: never over an earlier run's. A directory that already
// holds results gets a dated sibling instead (said on stderr and in the run's last line);
// --force replaces them, removing only the files migbench writes.
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** What a run leaves in its results directory (an A/B run: base/, head/ and compare.*). */
const OUTPUTS = ['results.json', 'results.md', 'results.html', 'failures.json', 'compare.md', 'compare.json', 'compare.html', 'base', 'head', 'junit.xml'];

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Whether `dir` holds an earlier run's results. */
export async function holdsResults(dir: string): Promise<boolean> {
  for (const file of ['results.json', join('base', 'results.json'), join('head', 'results.json')]) if (await exists(join(dir, file))) return true;
  return false;
}

/** 2026-12-07T07:05:12.345Z → 2026-12-07T07-05-12Z: sorts by time, and is a valid folder name everywhere. */
function stamp(now: Date): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
}

export interface ResultsDir {
  readonly dir: string;
  /** Set when the requested directory held results: what happened to them, in words. */
  readonly note?: string;
}

export async function resultsDirFor(requested: string, force: boolean, now = new Date()): Promise<ResultsDir> {
  if (!(await holdsResults(requested))) return { dir: requested };
  if (force) {
    for (const output of OUTPUTS) await rm(join(requested, output), { recursive: true, force: true });
    return { dir: requested, note: `results: replaced the earlier results in ${requested} (--force)` };
  }
  let dir = `${requested}-${stamp(now)}`;
  for (let n = 2; await exists(dir); n++) dir = `${requested}-${stamp(now)}-${n}`;
  return { dir, note: `results: ${requested} holds an earlier run's results, kept; this run writes to ${dir} (--force replaces them instead)` };
}
