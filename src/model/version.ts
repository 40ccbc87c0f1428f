// migbench's own version and the commit it runs from, recorded with every result.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { projectPath } from './paths.js';

export const MIGBENCH_VERSION: string = (JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version: string }).version;

let sha: string | null | undefined;

/** HEAD of the checkout migbench runs from, with "-dirty" when it has local changes; null outside git. */
export function gitSha(): string | null {
  if (sha !== undefined) return sha;
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectPath(), stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: projectPath(), stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    sha = dirty ? `${head}-dirty` : head;
  } catch {
    sha = null;
  }
  return sha;
}
