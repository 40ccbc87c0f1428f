// migbench-probe, the host-side measuring tool (fixtures/probe/probe.c): built once per
// source version; hosts get a copy through installFile when they lack one.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LocalFile } from '../host.js';
import { cacheDir, projectPath } from '../paths.js';
import { LocalRunner } from '../runner/local.js';
import type { Log } from './image.js';

export async function ensureProbeTool(log: Log = console.log): Promise<LocalFile> {
  const source = await readFile(projectPath('fixtures/probe/probe.c'));
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const localPath = join(cacheDir(), 'tools', `migbench-probe-${hash}`);
  const present = await stat(localPath).then(() => true, () => false);
  if (!present) {
    log(`setup: building migbench-probe (${localPath})`);
    await mkdir(dirname(localPath), { recursive: true });
    await new LocalRunner().run(['gcc', '-O2', '-static', '-Wall', '-o', `${localPath}.tmp`, projectPath('fixtures/probe/probe.c')], { timeoutMs: 120_000 });
    await rename(`${localPath}.tmp`, localPath);
  }
  return { name: 'migbench-probe', localPath, sha256: createHash('sha256').update(await readFile(localPath)).digest('hex') };
}
