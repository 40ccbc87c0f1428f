import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { initRepository } from '../../src/cli/init.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { resolveScenarios } from '../../src/config/scenarios.js';
import { UsageError } from '../../src/model/errors.js';

describe(initRepository, () => {
  test('writes a config that validates and a suite for each of its suites', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-init-'));
    expect(await initRepository(dir, { force: false })).toEqual([
      'migbench.yaml',
      join('suites', 'memory-migration.test.ts'),
      join('.github', 'workflows', 'migbench-gate.yml'),
      join('.github', 'workflows', 'migbench-nightly.yml'),
    ]);
    const { config } = await loadConfig(join(dir, 'migbench.yaml'));
    expect(resolveScenarios(config, 'memory-migration').map((s) => [s.name, s.target])).toEqual([['idle-256', 'lab']]);
    const suite = await readFile(join(dir, 'suites', 'memory-migration.test.ts'), 'utf8');
    expect(suite).toContain("from 'migbench/vitest'");
    expect(suite).toContain("useMigbench('memory-migration')");
  });

  test('never overwrites a file unless forced, and names every file in the way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-init-'));
    await writeFile(join(dir, 'migbench.yaml'), 'mine\n');
    await expect(initRepository(dir, { force: false })).rejects.toThrow(UsageError);
    await expect(initRepository(dir, { force: false })).rejects.toThrow(/would overwrite migbench\.yaml in .*--force/);
    expect(await readFile(join(dir, 'migbench.yaml'), 'utf8')).toBe('mine\n');
    await initRepository(dir, { force: true });
    expect(await readFile(join(dir, 'migbench.yaml'), 'utf8')).toContain('schemaVersion: 1');
  });
});

describe('help and version', () => {
  async function cli(argv: string[]) {
    let out = '';
    let err = '';
    const code = await main(argv, { log: (l) => (err += `${l}\n`), out: (t) => (out += t) });
    return { code, out, err };
  }

  test('every command answers --help with its own usage; an unknown one is a usage error', async () => {
    for (const name of ['init', 'run', 'start', 'lab', 'report', 'compare', 'merge', 'alert', 'export', 'validate', 'setup', 'doctor']) {
      const help = await cli([name, '--help']);
      expect(help.code, name).toBe(0);
      expect(help.out, name).toMatch(new RegExp(`^Usage:\\n  migbench ${name}\\b`));
    }
    expect(await cli(['teleport', '--help'])).toMatchObject({ code: 2, err: expect.stringContaining('unknown command "teleport"') });
  });

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toEqual({ code: 0, out: `migbench ${version}\n`, err: '' });
  });
});
