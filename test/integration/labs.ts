// The tests run lab files on several workers at once, each in an embedded lab of its own
// (MIGBENCH_LAB): the labs' namespaces keep their identical addresses apart, and their
// folders and locks are their own. A TCG guest keeps a core busy only while it boots or
// dirties memory, so three labs on two cores finish the lab files in about half the time
// one did.
//
// A worker claims a free lab before its test file loads, with a lock file of the lab
// lock's kind in a folder the global set-up makes: vitest's VITEST_POOL_ID is not unique
// among the workers of a run with several projects (seen: two files at once with id 1).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tryLockFile } from '../../src/lab/lock.js';
import { sleep } from '../../src/model/time.js';

/** How many labs, and so how many lab test files at a time. */
export const TEST_LABS = 3;

/** The environment variable naming the folder of the workers' claims, set by the global set-up. */
export const CLAIMS_ENV = 'MIGBENCH_TEST_LAB_CLAIMS';

/** The test labs' names; never the user's own lab (`mb`). */
export function testLabNames(): string[] {
  return Array.from({ length: TEST_LABS }, (_, i) => `mbt${i + 1}`);
}

/**
 * A lab no other worker holds, claimed for this worker's life (a claim whose worker died is
 * taken over). Waits while all are held: vitest runs at most TEST_LABS lab files at once.
 */
export async function claimTestLab(what: string): Promise<string> {
  const folder = process.env[CLAIMS_ENV];
  if (!folder) throw new Error(`${CLAIMS_ENV} is not set: the lab projects' global set-up (test/integration/global-setup.ts) did not run`);
  const claimPath = (name: string) => join(folder, `${name}.claim`);
  // A worker vitest reuses for another file keeps its lab.
  const kept = process.env.MIGBENCH_LAB;
  if (kept && holder(claimPath(kept)) === process.pid) return kept;
  for (const started = Date.now(); Date.now() - started < 600_000; await sleep(100)) {
    for (const name of testLabNames()) {
      const claim = await tryLockFile(claimPath(name), what, () => undefined);
      if (!claim) continue;
      // Released when the worker exits; a worker killed outright leaves a claim the next takes over.
      process.once('exit', () => {
        if (holder(claim.path) === process.pid) rmSync(claim.path, { force: true });
      });
      return name;
    }
  }
  throw new Error(`no test lab free after 600 s: ${testLabNames().join(', ')} all claimed in ${folder}`);
}

function holder(path: string): number | null {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}
