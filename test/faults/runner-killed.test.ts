// `migbench run` itself killed mid-run, as a cancelled CI job or the OOM killer would. The
// results file is replaced atomically after each record, so it is valid and complete up to
// the last finished run whatever kills the runner; SIGTERM lets the running scenario
// finish and clean up; after SIGKILL, `migbench lab down` removes what was left.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { alive, labStatus, labUp } from '../../src/lab/lab.js';
import { labLockHolder, labLockPath } from '../../src/lab/lock.js';
import { labName, labRoot, projectPath } from '../../src/model/paths.js';
import { labQemuPids } from '../integration/helpers.js';
import { readResults } from '../../src/model/results.js';
import { LocalRunner } from '../../src/exec/local.js';
import { sleep } from '../../src/model/time.js';

const root = new LocalRunner();

/** Three migrations of about ten seconds each (256 MiB at 8 MiB/s). */
async function slowSuite(): Promise<{ config: string; out: string }> {
  const out = await mkdtemp(join(tmpdir(), 'migbench-killed-'));
  const config = join(out, 'slow.yaml');
  const scenario = (n: number) => `      - { name: slow-${n}, guest: { memoryMiB: 256 }, migration: { kind: memory, maxBandwidthMiBps: 8 } }\n`;
  await writeFile(config, `suites:\n  memory-migration:\n    scenarios:\n${[1, 2, 3].map(scenario).join('')}`);
  return { config, out };
}

function startRun(config: string, out: string) {
  // Its own process group, so a test can kill the runner alone or the runner with its workers.
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('src/cli/index.ts'), 'run', '--config', config, '--out', out], {
    cwd: projectPath('.'),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, output: () => output };
}

/** Waits until the results file holds `n` records (it is valid at every moment it exists). */
async function waitForRecords(path: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const count = await readResults(path).then(
      (r) => r.records.length,
      () => 0,
    );
    if (count >= n) return;
    await sleep(250);
  }
  throw new Error(`no ${n} records in ${path} within ${timeoutMs} ms`);
}

/** A run of the slow suite, once its first record is written and its second guest is up. */
async function runIntoSecondScenario() {
  const { config, out } = await slowSuite();
  const run = startRun(config, out);
  const results = join(out, 'results.json');
  await waitForRecords(results, 1, 240_000);
  // A signal before the second guest is up skips that scenario too.
  const deadline = Date.now() + 60_000;
  while ((await labQemuPids()).length === 0 && Date.now() < deadline) await sleep(200);
  return { run, out, results };
}

describe('the runner killed mid-run', () => {
  test('SIGTERM: the running scenario finishes and is cleaned up, the rest skipped; results valid; exit 143', async () => {
    const { run, out, results } = await runIntoSecondScenario();
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    expect(code, run.output().slice(-3000)).toBe(143);
    expect(run.output()).toMatch(/SIGTERM: finishing the running scenario and skipping the rest/);
    const kept = await readResults(results);
    // The first finished before the signal; the one running then was let finish; the third never began.
    expect(kept.records.map((r) => r.scenario)).toEqual(['slow-1', 'slow-2']);
    expect(kept.records.every((r) => r.status === 'completed')).toBe(true);
    expect(await readFile(join(out, 'results.md'), 'utf8')).toContain('slow-2');
    expect(await labQemuPids()).toEqual([]);
  });

  test('SIGKILL of the runner alone: results valid up to the last finished run; its worker finishes the running scenario, cleans up and exits', async () => {
    const { config, out } = await slowSuite();
    const run = startRun(config, out);
    const results = join(out, 'results.json');
    await waitForRecords(results, 1, 240_000);
    const workers = (await root.run(['pgrep', '-P', String(run.child.pid)], { check: false })).stdout.split(/\s+/).filter(Boolean).map(Number);
    expect(workers.length).toBeGreaterThan(0);
    run.child.kill('SIGKILL');
    await run.exited;
    expect((await readResults(results)).records.map((r) => r.scenario)).toEqual(['slow-1']);
    // Orphaned, the worker ends the migration it was in, tears its guest down and exits.
    const deadline = Date.now() + 240_000;
    while (workers.some(alive) && Date.now() < deadline) await sleep(500);
    expect(workers.filter(alive)).toEqual([]);
    expect(await labQemuPids()).toEqual([]);
    expect((await readResults(results)).records.map((r) => r.scenario)).toEqual(['slow-1']);
  });

  test('SIGKILL of the runner and its workers: results valid; `migbench lab down` removes every leftover', async () => {
    const { run, results } = await runIntoSecondScenario();
    process.kill(-run.child.pid!, 'SIGKILL');
    await run.exited;
    expect((await readResults(results)).records.map((r) => r.scenario)).toEqual(['slow-1']);
    expect((await labQemuPids()).length).toBeGreaterThan(0);
    const down = await root.run([process.execPath, '--import', 'tsx', projectPath('src/cli/index.ts'), 'lab', 'down'], { check: false, timeoutMs: 120_000 });
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await labQemuPids()).toEqual([]);
    expect((await root.run(['ip', 'netns', 'list'])).stdout.split('\n').filter((ns) => ns.startsWith(`${labName()}-`))).toEqual([]);
    expect((await labStatus()).up).toBe(false);
    // Nor the killed run's guest files: its VM folders and its shared disk. Only the test
    // suite's own lock stays (the suite holds the lab and lent it to the killed run).
    const left = (await root.run(['find', labRoot(), '-mindepth', '1'], { check: false })).stdout.split('\n').filter(Boolean);
    expect(left.filter((path) => path !== labLockPath())).toEqual([]);
    expect((await labLockHolder())?.what).toBe('the integration tests (vitest)');
    // The lab back for whatever runs next (global teardown takes it down again).
    await labUp();
  });
});
