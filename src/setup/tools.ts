// migbench-probe, the host-side measuring tool (native/probe/probe.c): built once per
// source version; hosts get a copy through installFile when they lack one.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LocalFile } from '../exec/host.js';
import { cacheDir, pathExists, projectPath } from '../model/paths.js';
import { LocalRunner } from '../exec/local.js';
import type { Log } from './image.js';

/** Where this migbench's probe is (or would be) built. */
export async function probeToolPath(): Promise<string> {
  const source = await readFile(projectPath('native/probe/probe.c'));
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  return join(cacheDir(), 'tools', `migbench-probe-${hash}`);
}

export async function ensureProbeTool(log: Log = console.log): Promise<LocalFile> {
  const localPath = await probeToolPath();
  const present = await pathExists(localPath);
  if (!present) {
    log(`setup: building migbench-probe (${localPath})`);
    await mkdir(dirname(localPath), { recursive: true });
    await new LocalRunner().run(['gcc', '-O2', '-static', '-Wall', '-o', `${localPath}.tmp`, projectPath('native/probe/probe.c')], { timeoutMs: 120_000 });
    await rename(`${localPath}.tmp`, localPath);
  }
  return {
    name: 'migbench-probe',
    localPath,
    sha256: createHash('sha256')
      .update(await readFile(localPath))
      .digest('hex'),
  };
}

/**
 * VMware's vCenter simulator (fixtures/vcsim/main.go on Debian's govmomi source), for the
 * vSphere driver's tests; built once per source version. Null where Go or govmomi's source
 * is missing (set-up installs both).
 */
export async function ensureVcsim(log: Log = console.log): Promise<string | null> {
  const gopath = '/usr/share/gocode';
  const hasSource = await pathExists(join(gopath, 'src/github.com/vmware/govmomi/simulator'));
  const go = await new LocalRunner().run(['go', 'version'], { check: false }).catch(() => null);
  if (!hasSource || !go?.ok) return null;
  const source = await readFile(projectPath('fixtures/vcsim/main.go'));
  const hash = createHash('sha256').update(source).update(go.stdout).digest('hex').slice(0, 16);
  const localPath = join(cacheDir(), 'tools', `vcsim-${hash}`);
  if (!(await pathExists(localPath))) {
    log(`setup: building VMware's vcsim from govmomi (${localPath})`);
    await mkdir(dirname(localPath), { recursive: true });
    await new LocalRunner().run(
      ['env', 'GO111MODULE=off', `GOPATH=${gopath}`, `GOCACHE=${join(cacheDir(), 'go-build')}`, 'go', 'build', '-o', `${localPath}.tmp`, projectPath('fixtures/vcsim/main.go')],
      { timeoutMs: 600_000 },
    );
    await rename(`${localPath}.tmp`, localPath);
  }
  return localPath;
}
