// `migbench run` end to end, as a user runs it: a real suite in the lab, results.json
// valid against its schema, the table printed from it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';
import { readResults } from '../../src/results.js';

function migbench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/cli.ts'), ...args], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
    const result = await migbench(['run', '--scenario', 'idle-256', '--out', out]);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    const results = await readResults(join(out, 'results.json'));
    expect(results.records).toHaveLength(1);
    const [record] = results.records;
    expect(record).toMatchObject({ suite: 'memory-migration', scenario: 'idle-256', status: 'completed', test: 'memory-migration > idle-256 #1' });
    expect(result.stdout).toContain('| memory-migration | idle-256');
    expect(result.stdout).toContain('downtime ms (observed)');
    expect(await readFile(join(out, 'results.md'), 'utf8')).toContain('idle-256');
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
  });
});
