// `migbench init`: a starter config and suite in the user's repository, copied from the
// templates shipped with migbench. Never overwrites a file unless told to.
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, access } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { UsageError } from '../model/errors.js';
import { projectPath } from '../model/paths.js';

const TEMPLATES = projectPath('templates', 'init');

/** The template files, relative to the template folder. */
async function templateFiles(dir = TEMPLATES, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...(await templateFiles(join(dir, entry.name), path)));
    else files.push(path);
  }
  return files.sort();
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Writes the templates into `dir`; refuses (naming every file in the way) unless `force`. Returns the files written. */
export async function initRepository(dir: string, options: { force: boolean }): Promise<string[]> {
  const files = await templateFiles();
  const inTheWay: string[] = [];
  for (const file of files) if (await exists(join(dir, file))) inTheWay.push(file);
  if (inTheWay.length && !options.force) {
    throw new UsageError(
      `init would overwrite ${inTheWay.join(', ')} in ${relative(process.cwd(), dir) || 'the current directory'}: move them away, or pass --force to replace them`,
    );
  }
  for (const file of files) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyFile(join(TEMPLATES, file), join(dir, file), options.force ? 0 : constants.COPYFILE_EXCL);
  }
  return files;
}
