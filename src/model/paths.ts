// Where migbench keeps things: the project's own files, the build cache, lab state.
import { constants, existsSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigbenchError } from './errors.js';

/**
 * The checkout this code runs from: the nearest folder above this module holding
 * package.json. Found, not counted in "..": the same code runs from src/model/ and
 * bundled into dist/ (the Action).
 */
function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`migbench: no package.json above ${from}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** Whether a path exists (with `constants.X_OK`: and may be executed), never throwing. */
export function pathExists(path: string, mode: number = constants.F_OK): Promise<boolean> {
  return access(path, mode).then(
    () => true,
    () => false,
  );
}

export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}

const THIS_MODULE = fileURLToPath(import.meta.url);

/**
 * One of migbench's own modules as a file, named from the source root without extension
 * ('vitest/setup'): src/vitest/setup.ts when running from the sources, lib/vitest/setup.js
 * in the installed package. For files handed to vitest, which loads them itself.
 */
export function ownModule(fromSourceRoot: string): string {
  return join(dirname(dirname(THIS_MODULE)), `${fromSourceRoot}${extname(THIS_MODULE)}`);
}

/** Built guest images and tools; keyed by content hash, so safe to share between checkouts. */
export function cacheDir(): string {
  if (process.env.MIGBENCH_CACHE_DIR) return process.env.MIGBENCH_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'migbench');
}

/** Where migbench keeps a host's VM folders unless the target says otherwise. */
export const DEFAULT_WORK_DIR = '/run/migbench';

/** The embedded lab's name when MIGBENCH_LAB does not give one. */
export const DEFAULT_LAB_NAME = 'mb';

/** A lab's name, the prefix of its namespaces (`mb-src`): 1-8 lowercase letters or digits, a letter first. */
export const LAB_NAME = /^[a-z][a-z0-9]{0,7}$/;

/**
 * Which embedded lab: the prefix of its namespaces (`mb-src`) and the root of its files.
 * One machine can run several labs side by side under different names (MIGBENCH_LAB=mbt1):
 * their namespaces keep their addresses apart, their files and locks are their own. The
 * test suite runs one per worker.
 */
export function labName(): string {
  const name = process.env.MIGBENCH_LAB || DEFAULT_LAB_NAME;
  if (!LAB_NAME.test(name)) {
    throw new MigbenchError('MB_LAB', `MIGBENCH_LAB must be 1-8 lowercase letters or digits, starting with a letter, not ${JSON.stringify(name)}`, { userError: true });
  }
  return name;
}

/** Every file of the lab lives under this folder: /run/migbench for the default lab, /run/migbench-NAME for another. */
export function labRoot(): string {
  const name = labName();
  return name === DEFAULT_LAB_NAME ? DEFAULT_WORK_DIR : `${DEFAULT_WORK_DIR}-${name}`;
}

/** State of the embedded lab (keys, sshd configs, pid files): gone after a reboot, like the lab. */
export function labDir(): string {
  return process.env.MIGBENCH_LAB_DIR || join(labRoot(), 'lab');
}

/**
 * The lab's guest files: each host's VM folders and the folder both hosts share as shared
 * storage. The lab's hosts are this machine, so these are this machine's folders, and they
 * go with the lab at `lab down` (a run killed with SIGKILL leaves its guest's files there).
 */
export function labWorkDir(hostName: string): string {
  return join(labRoot(), hostName);
}

export function labSharedDir(): string {
  return join(labRoot(), 'shared');
}
