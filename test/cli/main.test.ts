import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
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

describe('compare and export', () => {
  test('compare of a results file with itself: no regression, exit 0; folders work as well as files', async () => {
    const fixture = projectPath('fixtures/results/lab-tcg.json');
    const folder = await mkdtemp(join(tmpdir(), 'migbench-compare-'));
    await copyFile(fixture, join(folder, 'results.json'));
    const same = await cli(['compare', fixture, folder]);
    expect(same.code, same.err).toBe(0);
    expect(same.out).toContain('## migbench: live migration, base vs head');
    expect(same.out).toMatch(/✅ \*\*0 regressions\*\*/);
    // Identical samples decide themselves: unchanged, no test needed.
    expect(same.out).toContain('_No metric changed beyond its noise and thresholds._');
    const json = await cli(['compare', '--json', fixture, fixture]);
    expect(JSON.parse(json.out)).toMatchObject({ counts: { regression: 0 }, environmentDifferences: [], configDiffers: false });
  });

  test('compare refuses what it cannot read, naming it, with exit 2', async () => {
    const missing = await cli(['compare', '/nonexistent/base.json', projectPath('fixtures/results/lab-tcg.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('/nonexistent/base.json');
    expect((await cli(['compare', 'only-one'])).err).toContain('compare needs two results files or folders: BASE HEAD');
  });

  test('export in both formats', async () => {
    const bmf = await cli(['export', '--format', 'bmf', projectPath('fixtures/results/lab-tcg.json')]);
    expect(bmf.code).toBe(0);
    expect(JSON.parse(bmf.out)).toHaveProperty(['memory-migration/idle-256', 'total-time-ms', 'value']);
    const gab = await cli(['export', '--format', 'gab', projectPath('fixtures/results/lab-tcg.json')]);
    expect(JSON.parse(gab.out)[0]).toMatchObject({ name: expect.any(String), unit: expect.any(String), value: expect.any(Number) });
    expect((await cli(['export', '--format', 'csv'])).err).toContain('export needs --format bmf or --format gab');
  });
});
