// The secrets a config points at (passwords in environment variables or files), so the
// Action can mask them in the job log before anything runs: a value that slips into an
// error message or a subprocess's output is printed as *** by the runner.
import { readFile } from 'node:fs/promises';
import type { MigbenchConfig } from '../generated/config.js';

export async function configSecrets(config: MigbenchConfig, env: NodeJS.ProcessEnv): Promise<string[]> {
  const secrets = new Set<string>();
  for (const target of Object.values(config.targets ?? {})) {
    for (const block of [target.xenserver, target.vsphere]) {
      if (!block) continue;
      if (block.passwordEnv && env[block.passwordEnv]) secrets.add(env[block.passwordEnv]!);
      if (block.passwordFile) {
        // Unreadable now means the run reports it, naming the file; nothing to mask.
        const first = (await readFile(block.passwordFile, 'utf8').catch(() => '')).split('\n')[0]!;
        if (first) secrets.add(first);
      }
    }
  }
  return [...secrets];
}
