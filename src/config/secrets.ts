// Secrets a config points at, read in one place: passwords from an environment variable or
// the first line of a file, key and known_hosts files. Errors name where a secret was looked
// for, never its value. No SSH or driver imports: the Action reads passwords here to mask them.
import { readFile } from 'node:fs/promises';
import { MigbenchError } from '../model/errors.js';

/** A management API's password from the environment or a file; errors name where it was looked for, never the value. */
export async function readPassword(what: string, env: string | undefined, file: string | undefined, environment: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env) {
    const value = environment[env];
    if (!value) throw new MigbenchError('MB_CONFIG_READ', `the ${what} password variable ${env} is not set`, { userError: true });
    return value;
  }
  if (file) return (await readSecretFile(file, `${what} password file`)).toString('utf8').split('\n')[0]!;
  throw new MigbenchError('MB_CONFIG_INVALID', `no ${what} password: set passwordEnv or passwordFile`, { userError: true });
}

export async function readSecretFile(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new MigbenchError('MB_CONFIG_READ', `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {
      cause: error,
      userError: true,
    });
  }
}
