// What `npm publish` would ship: built once, packed once, then checked by publint and
// arethetypeswrong as a consumer's tools see it, and listed.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/model/paths.js';

const exec = promisify(execFile);
// Scripts stay off after the one build below: packing must not rebuild three times.
const env = { ...process.env, npm_config_ignore_scripts: 'true', npm_config_update_notifier: 'false' };
let tarball = '';
let files: string[] = [];

beforeAll(async () => {
  await exec('npm', ['run', '--silent', 'build'], { cwd: PROJECT_ROOT });
  const dir = await mkdtemp(join(tmpdir(), 'migbench-pack-'));
  const { stdout } = await exec('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PROJECT_ROOT, env });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(dir, packed!.filename);
  files = packed!.files.map((f) => f.path);
}, 120_000);

describe('the packed package', () => {
  test('ships the compiled command, the API, the schemas and the sources setup builds; no tests, no TypeScript sources of its own', () => {
    expect(files).toEqual(expect.arrayContaining(['bin/migbench.js', 'lib/cli/index.js', 'lib/index.js', 'lib/index.d.ts', 'lib/vitest/index.js', 'lib/vitest/index.d.ts']));
    expect(files).toEqual(
      expect.arrayContaining(['schemas/config.schema.json', 'schemas/results.schema.json', 'native/guest/agent.c', 'native/probe/probe.c', 'LICENSE', 'CHANGELOG.md']),
    );
    expect(files.filter((f) => /^(test|src|fixtures|scripts|bench|dist)\//.test(f))).toEqual([]);
    // The only test files are suites users run: migbench's built-in ones (init copies memory-migration).
    expect(files.filter((f) => /\.test\.[cm]?[jt]s$/.test(f)).sort()).toEqual(['suites/memory-migration.test.ts', 'suites/storage-migration.test.ts']);
  });

  test('publint finds nothing', async () => {
    const { stdout } = await exec('npx', ['--no-install', 'publint', '--strict', tarball], { cwd: PROJECT_ROOT, env });
    expect(stdout).toContain('All good!');
  }, 60_000);

  test('arethetypeswrong: every entry point resolves with its types under node16 and bundlers (ESM only, by design)', async () => {
    const { stdout } = await exec('npx', ['--no-install', 'attw', '--profile', 'esm-only', '--format', 'json', tarball], { cwd: PROJECT_ROOT, env });
    const report = JSON.parse(stdout) as { analysis: { problems: Array<{ kind: string; resolutionKind?: string; entrypoint?: string }> } };
    const counted = report.analysis.problems.filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs');
    expect(counted).toEqual([]);
  }, 60_000);
});
