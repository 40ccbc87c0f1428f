// `migbench init`: a starter config and suite in the user's repository, and the two
// workflows that use them: the pull-request gate and the nightly run. The config and
// workflows are templates shipped with migbench; the suite is migbench's own
// memory-migration suite, which imports `migbench/vitest` exactly as a user's suite does.
// Never overwrites a file unless told to.
import { constants } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { UsageError } from '../model/errors.js';
import { pathExists, projectPath } from '../model/paths.js';

/** What init writes: [shipped file, path in the user's repository]. */
const STARTER_FILES: ReadonlyArray<readonly [from: string, to: string]> = [
  [projectPath('templates', 'init', 'migbench.yaml'), 'migbench.yaml'],
  [projectPath('suites', 'memory-migration.test.ts'), join('suites', 'memory-migration.test.ts')],
  [projectPath('templates', 'init', 'migbench-gate.yml'), join('.github', 'workflows', 'migbench-gate.yml')],
  [projectPath('templates', 'init', 'migbench-nightly.yml'), join('.github', 'workflows', 'migbench-nightly.yml')],
];

/** Writes the starter files into `dir`; refuses (naming every file in the way) unless `force`. Returns the files written. */
export async function initRepository(dir: string, options: { force: boolean }): Promise<string[]> {
  const inTheWay: string[] = [];
  for (const [, to] of STARTER_FILES) if (await pathExists(join(dir, to))) inTheWay.push(to);
  if (inTheWay.length && !options.force) {
    throw new UsageError(
      `init would overwrite ${inTheWay.join(', ')} in ${relative(process.cwd(), dir) || 'the current directory'}: move them away, or pass --force to replace them`,
    );
  }
  for (const [from, to] of STARTER_FILES) {
    await mkdir(dirname(join(dir, to)), { recursive: true });
    await copyFile(from, join(dir, to), options.force ? 0 : constants.COPYFILE_EXCL);
  }
  return STARTER_FILES.map(([, to]) => to);
}
