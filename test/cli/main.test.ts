import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { projectPath } from '../../src/paths.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { log: (line) => (err += `${line}\n`), out: (text) => (out += text) });
  return { code, out, err };
}

describe(main, () => {
  test('a bad config: exit 2, the file, the JSON path and the line, and no stack trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-cli-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'suites:\n  memory-migration:\n    scenarios:\n      - name: x\n        guest: { memoryMiB: -1 }\n        migration: { kind: teleport }\n');
    const result = await cli(['run', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(`migbench: ${file}: 2 problems`);
    expect(result.err).toContain('suites.memory-migration.scenarios[0].guest.memoryMiB (line 5): must be >= 64, found -1');
    expect(result.err).toContain('suites.memory-migration.scenarios[0].migration.kind (line 6): expected one of "memory", "storage", found "teleport"');
    expect(result.err).not.toMatch(/\n\s+at /);
  });

  test('an unknown suite or scenario is a usage error naming what exists', async () => {
    expect((await cli(['run', '--suite', 'nope'])).err).toContain('no suite "nope" in suites/migbench.config.yaml (it has: memory-migration, storage-migration)');
    const scenario = await cli(['run', '--scenario', 'nope']);
    expect(scenario).toMatchObject({ code: 2 });
    expect(scenario.err).toContain('no scenario "nope"');
  });

  test('validate and report work from files alone', async () => {
    expect(await cli(['validate'])).toMatchObject({ code: 0, out: expect.stringMatching(/^suites\/migbench.config.yaml: valid; suites: memory-migration \(2 scenarios\), storage-migration \(2 scenarios\)/) });
    const report = await cli(['report', projectPath('fixtures/results/lab-tcg.json')]);
    expect(report.code).toBe(0);
    expect(report.out).toMatch(/\| memory-migration +\| idle-256 /);
    const missing = await cli(['report', '/nonexistent/results.json']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('/nonexistent/results.json');
  });

  test('help and usage errors', async () => {
    expect((await cli(['help'])).out).toContain('migbench start');
    expect(await cli(['bogus'])).toMatchObject({ code: 2, err: 'migbench: unknown command "bogus" (try: migbench help) [MB_USAGE]\n' });
  });
});
