// `migbench run` end to end, as a user runs it: a real suite in the lab, results.json
// valid against its schema, the table printed from it.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT, projectPath } from '../../src/model/paths.js';
import { readResults } from '../../src/model/results.js';
import { escapeRegExp } from '../../src/model/text.js';

function migbench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli/index.ts'), ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('migbench run', () => {
  test('runs a suite scenario, writes a valid results.json and prints the table from it', async () => {
    const out = await mkdtemp(join(tmpdir(), 'migbench-cli-'));
    // The runs inherit this file's TMPDIR (test/support/temp-dir.ts): what they leave in it is seen.
    const before = new Set(await readdir(tmpdir()));
    const result = await migbench(['run', '--scenario', 'idle-256', '--out', out]);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    const results = await readResults(join(out, 'results.json'));
    expect(results.records).toHaveLength(1);
    const [record] = results.records;
    expect(record).toMatchObject({ suite: 'memory-migration', scenario: 'idle-256', status: 'completed', test: 'memory-migration > idle-256 #1' });
    expect(result.stdout).toContain('| memory-migration | idle-256');
    expect(result.stdout).toContain('downtime ms (observed)');
    expect(await readFile(join(out, 'results.md'), 'utf8')).toContain('idle-256');

    // A second run into the same folder keeps the first run's results and writes beside them.
    const again = await migbench(['run', '--scenario', 'idle-256', '--out', out, '--quiet']);
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    const dated = /this run writes to (\S+) \(--force replaces them instead\)/.exec(again.stderr)?.[1];
    expect(dated, again.stderr).toMatch(new RegExp(`^${escapeRegExp(out)}-\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ$`));
    expect((await readResults(join(out, 'results.json'))).records.map((r) => r.id)).toEqual([record!.id]);
    expect((await readResults(join(dated!, 'results.json'))).records).toHaveLength(1);
    // The run's last line says where its results went.
    expect(again.stdout).toMatch(new RegExp(`Results: \\S*${basename(dated!)}/results\\.json`));
    // Nothing else is left in the temp folder, but tsx's cache (this test starts the CLI from
    // its source through tsx; a user's migbench is built). Checked because vitest leaves its
    // transformed modules there on some paths (vitest-dev/vitest#11224); migbench run's does not.
    const left = (await readdir(tmpdir())).filter((f) => !before.has(f) && !/^tsx-\d+$/.test(f));
    expect(left).toEqual([basename(dated!)]);
  });

  test('a threshold that does not hold fails the run (exit 1) and the record is still written', async () => {
    const out = await mkdtemp(join(tmpdir(), 'migbench-cli-'));
    const config = join(out, 'strict.yaml');
    await writeFile(
      config,
      'suites:\n  memory-migration:\n    scenarios:\n      - name: impossible\n        guest: { memoryMiB: 256 }\n        migration: { kind: memory }\n        thresholds: { observedDowntimeMs: 0.001 }\n',
    );
    const result = await migbench(['run', '--config', config, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/downtime ms \(observed\) \(observedDowntimeMs, from probe\) measured [\d.]+ ms, expected at most 0\.001 ms/);
    const results = await readResults(join(out, 'results.json'));
    expect(results.records[0]).toMatchObject({ scenario: 'impossible', status: 'completed' });
    // Where it failed, for the Action's annotations: the suite file and the assertion's test.
    const failures = JSON.parse(await readFile(join(out, 'failures.json'), 'utf8')) as Array<{ file: string; line: number | null; test: string; message: string }>;
    const suiteLines = (await readFile(projectPath('suites/memory-migration.test.ts'), 'utf8')).split('\n');
    const assertionLine = suiteLines.findIndex((l) => l.includes('toMeetThresholds')) + 1;
    expect(failures).toEqual([
      {
        file: 'suites/memory-migration.test.ts',
        line: assertionLine,
        test: 'memory-migration > impossible #1',
        message: expect.stringMatching(/thresholds exceeded: .*observedDowntimeMs/),
      },
    ]);
  });

  test('an A/B run alternates base and head, each keeping its own guest, writes both results files and compares them', async () => {
    const out = await mkdtemp(join(tmpdir(), 'migbench-ab-'));
    const scenarioYaml = (limit: number) =>
      `suites:\n  memory-migration:\n    scenarios:\n      - { name: idle, guest: { memoryMiB: 256, diskMiB: 0, diskDataMiB: 0 }, migration: { kind: memory, downtimeLimitMs: ${limit} }, samplesPerBoot: 2 }\n`;
    const [base, head] = [join(out, 'base.yaml'), join(out, 'head.yaml')];
    await writeFile(base, scenarioYaml(300));
    await writeFile(head, scenarioYaml(100));
    const result = await migbench(['run', '--ab', base, head, '--repeat', '2', '--out', out]);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    const [b, h] = [await readResults(join(out, 'base', 'results.json')), await readResults(join(out, 'head', 'results.json'))];
    const sides = (records: typeof b.records) => records.map((r) => [r.variant, r.parameters.downtimeLimitMs, r.chain?.position, r.chain?.boot, r.status]);
    expect(sides(b.records)).toEqual([
      ['base', 300, 1, 'fresh', 'completed'],
      ['base', 300, 2, 'reused', 'completed'],
    ]);
    expect(sides(h.records)).toEqual([
      ['head', 100, 1, 'fresh', 'completed'],
      ['head', 100, 2, 'reused', 'completed'],
    ]);
    // Each side migrated its own guest, at its own address, while the other's waited.
    expect(b.records[1]!.chain!.id).toBe(b.records[0]!.chain!.id);
    expect(h.records[1]!.chain!.id).toBe(h.records[0]!.chain!.id);
    expect(b.records[0]!.probe!.target).not.toBe(h.records[0]!.probe!.target);
    // Interleaved: base ran first, then head, then base again.
    expect(Date.parse(b.records[0]!.startedAt)).toBeLessThan(Date.parse(h.records[0]!.startedAt));
    expect(Date.parse(h.records[0]!.startedAt)).toBeLessThan(Date.parse(b.records[1]!.startedAt));
    expect(result.stdout).toContain('## migbench: live migration, base vs head');
    // One run a side: nothing can be judged, and the report says how many runs could.
    expect(result.stdout).toMatch(/the interval is unbounded at this size: needs n ≥ \d+ a side/);
    expect(await readFile(join(out, 'compare.html'), 'utf8')).toContain('<svg');
  });

  test('two runs at once on one machine: one waits for the lab, says for whom, and both complete', async () => {
    const outs = [await mkdtemp(join(tmpdir(), 'migbench-cli-a-')), await mkdtemp(join(tmpdir(), 'migbench-cli-b-'))];
    const runs = await Promise.all(outs.map((out) => migbench(['run', '--scenario', 'idle-256', '--out', out])));
    for (const run of runs) expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const waited = runs.map((r) => /lab: in use by pid \d+ \(migbench run, results to ([^,]+), since [^)]+\): waiting for it to finish/.exec(r.stderr));
    // Exactly one waited, for the other.
    expect(waited.filter(Boolean)).toHaveLength(1);
    const waiter = waited[0] ? 0 : 1;
    expect(waited[waiter]![1]).toBe(outs[1 - waiter]);
    expect(runs[waiter]!.stderr).toMatch(/lab: free after \d+\.\d s of waiting/);
    for (const out of outs) expect((await readResults(join(out, 'results.json'))).records.map((r) => r.status)).toEqual(['completed']);
  });
});
