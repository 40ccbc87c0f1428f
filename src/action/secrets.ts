// The secrets a config points at (passwords in environment variables or files), so the
// Action can mask them in the job log before anything runs: a value that slips into an
// error message or a subprocess's output is printed as *** by the runner.
import type { MigbenchConfig } from '../generated/config.js';
import { readPassword } from '../config/secrets.js';

export async function configSecrets(config: MigbenchConfig, env: NodeJS.ProcessEnv): Promise<string[]> {
  const secrets = new Set<string>();
  for (const target of Object.values(config.targets ?? {})) {
    for (const block of [target.xenserver, target.vsphere]) {
      if (!block) continue;
      // The value the run will log in with, read the way it will read it; one that cannot be
      // read is reported by the run itself, naming the variable or file: nothing to mask.
      const password = await readPassword('', block.passwordEnv, block.passwordFile, env).catch(() => null);
      if (password) secrets.add(password);
    }
  }
  return [...secrets];
}
