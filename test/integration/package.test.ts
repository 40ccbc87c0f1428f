// migbench as a user gets it: the packed package installed into a scratch repository
// outside this checkout, `migbench init`, then `migbench run` on the embedded lab. Nothing
// of the checkout is on the scratch repository's path, and no TypeScript loader is
// installed there: the command runs the compiled lib/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/model/paths.js';
import { readResults } from '../../src/model/results.js';

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** PATH without this checkout's node_modules/.bin (vitest puts it there for its workers). */
function userPath(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.startsWith(PROJECT_ROOT))
    .join(delimiter);
}

function run(argv: readonly string[], cwd: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: userPath(), npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS' || key === 'TSX_TSCONFIG_PATH') delete env[key];
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(argv: readonly string[], cwd: string): Promise<Ran> {
  const result = await run(argv, cwd);
  expect(result.code, `${argv.join(' ')} in ${cwd}:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-3000)}`).toBe(0);
  return result;
}

describe('the npm package in a user repository', () => {
  test('pack, install, `migbench init`, `migbench run`: a completed record in the user repository', { timeout: 600_000 }, async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'migbench-user-'));
    await ok(['npm', 'pack', '--silent', '--pack-destination', scratch], PROJECT_ROOT);
    const tarball = (await readdir(scratch)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^migbench-\d+\.\d+\.\d+.*\.tgz$/);

    await ok(['git', 'init', '--quiet'], scratch);
    await ok(['npm', 'init', '--yes'], scratch);
    await ok(['npm', 'install', '--save-dev', '--loglevel=error', `./${tarball}`], scratch);
    // The package brings its peer vitest, and no TypeScript loader.
    expect(existsSync(join(scratch, 'node_modules', 'vitest'))).toBe(true);
    expect(existsSync(join(scratch, 'node_modules', 'tsx'))).toBe(false);

    expect((await ok(['npx', 'migbench', '--version'], scratch)).stdout).toMatch(/^migbench \d+\.\d+\.\d+/);
    const init = await ok(['npx', 'migbench', 'init'], scratch);
    expect(init.stdout).toContain('wrote migbench.yaml');
    expect(await readFile(join(scratch, 'suites', 'memory-migration.test.ts'), 'utf8')).toContain("from 'migbench/vitest'");

    const measured = await ok(['npx', 'migbench', 'run'], scratch);
    expect(measured.stdout).toContain('| memory-migration | idle-256');
    const results = await readResults(join(scratch, 'results', 'results.json'));
    expect(results.records).toHaveLength(1);
    expect(results.records[0]).toMatchObject({ suite: 'memory-migration', scenario: 'idle-256', status: 'completed' });
    // The suite that ran is the user's own file, and the config the user's own.
    expect(results.config.path).toBe('migbench.yaml');
    expect(measured.stdout + measured.stderr).toContain('suites/memory-migration.test.ts');
  });
});
