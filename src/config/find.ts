// Which config a command reads when none is named: the user's own, found from the
// current directory, as git and npm find theirs.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UsageError } from '../model/errors.js';
import { projectPath } from '../model/paths.js';

/** Looked for in this order in the current directory. The last is migbench's own checkout's. */
export const CONFIG_NAMES = ['migbench.yaml', 'migbench.yml', join('suites', 'migbench.config.yaml')] as const;

/** migbench's default suites, shipped with it: what `migbench start` runs on the embedded lab. */
export function defaultSuitesConfig(): string {
  return projectPath('suites', 'migbench.config.yaml');
}

/** The config named, else the first of CONFIG_NAMES in `cwd`; a UsageError saying where it looked. */
export function findConfig(named: string | undefined, cwd: string = process.cwd()): string {
  if (named !== undefined) return named;
  for (const name of CONFIG_NAMES) if (existsSync(join(cwd, name))) return name;
  const where = relative(process.cwd(), cwd) || 'the current directory';
  throw new UsageError(`no config in ${where} (looked for ${CONFIG_NAMES.join(', ')}): \`migbench init\` writes a starter migbench.yaml, or name one with --config FILE`);
}
