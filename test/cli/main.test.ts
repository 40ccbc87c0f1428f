import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { projectPath } from '../../src/model/paths.js';

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
    expect(result.err).toContain('suites.memory-migration.scenarios[0].guest.memoryMiB (line 5): expected an integer >= 64, found -1');
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
    expect(await cli(['validate'])).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^suites\/migbench.config.yaml: valid; suites: memory-migration \(2 scenarios\), storage-migration \(2 scenarios\)/),
    });
    const report = await cli(['report', projectPath('fixtures/results/lab-tcg.json')]);
    expect(report.code).toBe(0);
    expect(report.out).toMatch(/\| memory-migration +\| idle-256 /);
    const missing = await cli(['report', '/nonexistent/results.json']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('/nonexistent/results.json');
  });

  test('merge never writes over earlier results: a second merge into one folder goes to a dated one, --force replaces, and refuses to empty a folder it reads from', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-merge-'));
    const out = join(dir, 'merged');
    const shard = projectPath('fixtures/results/lab-tcg.json');
    const first = await cli(['merge', '--out', out, shard]);
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toContain(join(out, 'results.json'));
    const before = await readFile(join(out, 'results.json'), 'utf8');
    const second = await cli(['merge', '--out', out, shard, shard]);
    expect(second.code).toBe(0);
    expect(second.err).toMatch(/holds an earlier run's results, kept; this run writes to .*merged-\d{4}-\d\d-\d\dT/);
    expect(await readFile(join(out, 'results.json'), 'utf8')).toBe(before);
    const forced = await cli(['merge', '--force', '--out', out, shard, shard]);
    expect(forced).toMatchObject({ code: 0, out: expect.stringContaining(join(out, 'results.json')) });
    expect(forced.err).toContain('replaced the earlier results');
    expect(await readFile(join(out, 'results.json'), 'utf8')).not.toBe(before);
    const inside = await cli(['merge', '--force', '--out', out, out]);
    expect(inside).toMatchObject({ code: 2, err: expect.stringContaining('would remove') });
    // Through a symlink to the folder, it is still inside.
    await symlink(out, join(dir, 'link'));
    const linked = await cli(['merge', '--force', '--out', join(dir, 'link'), out]);
    expect(linked).toMatchObject({ code: 2, err: expect.stringContaining('would remove') });
    expect(await readFile(join(out, 'results.json'), 'utf8')).not.toBe('');
    await rm(dir, { recursive: true, force: true });
  });

  test('help and usage errors', async () => {
    expect((await cli(['help'])).out).toContain('migbench start');
    expect(await cli(['bogus'])).toMatchObject({ code: 2, err: 'migbench: unknown command "bogus" (try: migbench help) [MB_USAGE]\n' });
  });
});

// Issue 8, "Bad input": validate refuses each kind of bad config with exit code 2 and a
// message naming the file, the JSON path (and line), what was expected and what was found,
// never a stack trace.
describe('validate: bad input', () => {
  const scenario = (extra = '', guest = 'memoryMiB: 256', migration = 'kind: memory') =>
    `suites:\n  s:\n    scenarios:\n      - { name: a, guest: { ${guest} }, migration: { ${migration} }${extra} }\n`;
  const at = 'suites.s.scenarios[0]';
  const vsphere = (dir: string, settings: string) => {
    const host = `{ address: h1, user: root, identityFile: ${dir}/id, hostKeyFingerprints: ["SHA256:${'A'.repeat(43)}"], migrationAddress: 10.0.0.1, migrationInterface: eth1 }`;
    return `targets:\n  rack1: { hypervisor: vsphere, source: ${host}, destination: ${host}, guestNetwork: { address: 192.0.2.5/24, bridge: br0 }, vsphere: { url: "https://vc/sdk", user: admin, vm: v, sourceHost: a, destinationHost: b${settings} } }\n${scenario(', target: rack1')}`;
  };
  // [case, file name, config text (DIR is the test's folder), what stderr must contain (FILE is the config's path)]
  const cases: Array<[string, string, string | null, string[]]> = [
    [
      'unknown key at the top',
      'top.yaml',
      `bogus: 1\n${scenario()}`,
      ['FILE: invalid', 'bogus (line 1): unknown key "bogus" (expected one of: $schema, schemaVersion, defaults, targets, suites, matrices, compare)'],
    ],
    ['unknown key in a scenario', 'scenario.yaml', scenario(', warmup: 3'), [`${at}.warmup (line 4): unknown key "warmup" (expected one of: name,`]],
    ['wrong type', 'type.yaml', scenario('', 'memoryMiB: lots'), [`${at}.guest.memoryMiB (line 4): expected integer, found "lots"`]],
    ['negative number', 'negative.yaml', scenario('', 'memoryMiB: 256, vcpus: -2'), [`${at}.guest.vcpus (line 4): expected an integer >= 1, found -2`]],
    [
      'downtime limit 0',
      'downtime.yaml',
      scenario('', undefined, 'kind: memory, downtimeLimitMs: 0'),
      [`${at}.migration.downtimeLimitMs (line 4): expected an integer >= 1, found 0`],
    ],
    ['1 TiB guest on the lab', 'huge.yaml', scenario('', 'memoryMiB: 1048576'), [`${at}.guest.memoryMiB (line 4): expected at most`, 'found 1048576 MiB', 'MiB of RAM']],
    ['n = 0 repetitions', 'repeat.yaml', scenario(', repeat: 0'), [`${at}.repeat (line 4): expected an integer >= 1, found 0`]],
    [
      'threshold on an unknown metric',
      'metric.yaml',
      scenario(', thresholds: { downtimeMS: 300 }'),
      [`${at}.thresholds.downtimeMS (line 4): unknown metric "downtimeMS": did you mean "downtimeMs"?`],
    ],
    ['vsphere without credentials', 'nocreds.yaml', vsphere('DIR', ''), ['targets.rack1.vsphere (line 2): give the vCenter password as passwordEnv or passwordFile']],
    [
      'passwordEnv naming an unset variable',
      'unset.yaml',
      vsphere('DIR', ', passwordEnv: MB_TEST_UNSET_PASSWORD'),
      ['targets.rack1.vsphere.passwordEnv (line 2): expected the environment variable MB_TEST_UNSET_PASSWORD to hold the vCenter password of target rack1, found it unset'],
    ],
    [
      'malformed YAML',
      'broken.yaml',
      'suites:\n  s:\n    scenarios: [\n      - name: a\n',
      ['FILE: 2 problems', '(line 4, column 7): Block collections are not allowed within flow collections'],
    ],
    [
      'a YAML alias that contains itself',
      'cycle.yaml',
      'suites:\n  s:\n    scenarios:\n      - &a { name: a, guest: { memoryMiB: 256 }, migration: { kind: memory }, description: [*a] }\n',
      [`${at}.description[0] (line 4): found a YAML alias that contains itself`],
    ],
    ['a YAML alias without its anchor', 'alias.yaml', `x: *nope\n${scenario()}`, ['(line 1, column 4): the YAML alias *nope has no anchor &nope before it']],
    ['a missing file', 'missing.yaml', null, ['migbench: FILE: cannot read config: expected a YAML or JSON file, found no such file [MB_CONFIG_READ]']],
  ];

  test.each(cases)('%s: exit 2, the file, the path, expected and found, no stack trace', async (_, name, text, parts) => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-bad-'));
    await writeFile(join(dir, 'id'), 'not a key\n');
    const file = join(dir, name);
    if (text !== null) await writeFile(file, text.replaceAll('DIR', dir));
    delete process.env.MB_TEST_UNSET_PASSWORD;
    const result = await cli(['validate', '--config', file]);
    expect(result.code, result.err).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toContain(`migbench: ${file}: `);
    for (const part of parts) expect(result.err).toContain(part.replaceAll('FILE', file));
    expect(result.err).not.toMatch(/^\s+at /m);
  });

  test('credentials are checked for the targets the scenarios use, never printing a value; --skip-credentials checks the file alone', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-creds-'));
    await writeFile(join(dir, 'id'), 'not a key\n');
    const file = join(dir, 'c.yaml');
    await writeFile(file, vsphere(dir, ', passwordEnv: MB_TEST_SET_PASSWORD'));
    process.env.MB_TEST_SET_PASSWORD = 'hunter2-secret';
    try {
      expect(await cli(['validate', '--config', file])).toMatchObject({ code: 0, err: '' });
    } finally {
      delete process.env.MB_TEST_SET_PASSWORD;
    }
    const unset = await cli(['validate', '--config', file]);
    expect(unset.code).toBe(2);
    expect(unset.err).toContain('MB_TEST_SET_PASSWORD');
    expect(unset.err).not.toContain('hunter2');
    expect(await cli(['validate', '--skip-credentials', '--config', file])).toMatchObject({ code: 0, out: `${file}: valid; suites: s (1 scenarios)\n` });
    await mkdir(join(dir, 'folder.yaml'));
    expect((await cli(['validate', '--config', join(dir, 'folder.yaml')])).err).toBe(
      `migbench: ${join(dir, 'folder.yaml')}: cannot read config: expected a YAML or JSON file, found a directory [MB_CONFIG_READ]\n`,
    );
  });

  test('the real command: exit status 2 and stderr without a stack trace or warnings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-proc-'));
    const file = join(dir, 'cycle.yaml');
    await writeFile(file, 'suites:\n  [a, b]: 1\n  s:\n    scenarios:\n      - &a { name: a, guest: { memoryMiB: 256 }, migration: { kind: memory }, description: [*a] }\n');
    const run = spawnSync(process.execPath, ['--import', 'tsx', projectPath('src/cli/index.ts'), 'validate', '--config', file], {
      cwd: projectPath(),
      encoding: 'utf8',
      env: { ...process.env, MIGBENCH_DEBUG: '' },
    });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toBe(`migbench: ${file}: invalid\n  (line 2, column 3): expected a plain key (a name), found a list used as a key [MB_CONFIG_INVALID]\n`);
  }, 60_000);
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
