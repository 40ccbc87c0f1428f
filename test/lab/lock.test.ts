// One run at a time on the lab: a second run waits for the first and says for whom; a
// lock whose holder died is removed. Lock files in a temporary folder (MIGBENCH_LAB_DIR).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { acquireLabLock, assertLabFree, holdLabForChildren, labLockHolder, labLockPath } from '../../src/lab/lock.js';

let saved: string | undefined;
beforeEach(async () => {
  saved = process.env.MIGBENCH_LAB_DIR;
  process.env.MIGBENCH_LAB_DIR = join(await mkdtemp(join(tmpdir(), 'migbench-lock-')), 'lab');
});
afterEach(() => {
  if (saved === undefined) delete process.env.MIGBENCH_LAB_DIR;
  else process.env.MIGBENCH_LAB_DIR = saved;
});

/** Another process "holding" the lab for `seconds`: a sleep whose pid is written in the lock. */
async function heldByAnother(seconds: number): Promise<{ pid: number; exited: Promise<void> }> {
  const child = spawn('sleep', [String(seconds)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await writeFile(labLockPath(), JSON.stringify({ pid: child.pid, what: 'migbench run', since: '2026-12-07T02:00:00.000Z' }));
  return { pid: child.pid!, exited };
}

test('a second run waits while another live process holds the lab, says for whom, and takes it when that one is gone', async () => {
  const other = await heldByAnother(1.5);
  const lines: string[] = [];
  const started = performance.now();
  const lock = await acquireLabLock({ what: 'migbench run', log: (l) => lines.push(l), pollMs: 50 });
  await other.exited;
  expect(performance.now() - started).toBeGreaterThan(1000);
  expect(lines[0]).toBe(`lab: in use by pid ${other.pid} (migbench run, since 2026-12-07T02:00:00.000Z): waiting for it to finish`);
  expect(lines.at(-1)).toMatch(/^lab: free after \d+\.\d s of waiting$/);
  expect(JSON.parse(await readFile(labLockPath(), 'utf8'))).toMatchObject({ pid: process.pid, what: 'migbench run' });
  expect((await labLockHolder())?.pid).toBe(process.pid);
  await lock.release();
  expect(await labLockHolder()).toBeNull();
});

test('a lock left by a run that died is removed, and said', async () => {
  await writeFile(labLockPath(), JSON.stringify({ pid: 2 ** 22 + 12345, what: 'migbench run', since: 'yesterday' }));
  const lines: string[] = [];
  const lock = await acquireLabLock({ what: 'migbench run', log: (l) => lines.push(l), pollMs: 50 });
  expect(lines).toEqual([`lab: removing a stale lock of pid ${2 ** 22 + 12345} (migbench run, since yesterday) that is no longer running`]);
  await lock.release();
});

test('lab up and lab down refuse while another run holds the lab; the holder itself may', async () => {
  const other = await heldByAnother(5);
  await expect(assertLabFree('take the lab down')).rejects.toThrow(`cannot take the lab down: the lab is in use by pid ${other.pid} (migbench run`);
  process.kill(other.pid);
  await other.exited;
  const lock = await acquireLabLock({ what: 'migbench run', log: () => undefined });
  await expect(assertLabFree('take the lab down')).resolves.toBeUndefined();
  await lock.release();
});

test('gives up after maxWaitMs, naming the holder', async () => {
  const other = await heldByAnother(5);
  await expect(acquireLabLock({ what: 'x', log: () => undefined, pollMs: 20, maxWaitMs: 200 })).rejects.toThrow(`the lab is in use by pid ${other.pid} (migbench run, since`);
  process.kill(other.pid);
});

test('a lock file still being written (unreadable, fresh) is not taken for stale: no second holder', async () => {
  await writeFile(labLockPath(), '');
  await expect(acquireLabLock({ what: 'x', log: () => undefined, pollMs: 20, maxWaitMs: 300 })).rejects.toThrow('the lab is in use by pid 0 (unknown (an unreadable lock file)');
  expect(await readFile(labLockPath(), 'utf8')).toBe('');
});

test('a pid the kernel gave to another process since is not the holder (its start time differs)', async () => {
  const other = await heldByAnother(5);
  await writeFile(labLockPath(), JSON.stringify({ pid: other.pid, started: 1, what: 'migbench run', since: 'long ago' }));
  const lines: string[] = [];
  const lock = await acquireLabLock({ what: 'migbench run', log: (l) => lines.push(l), pollMs: 20 });
  expect(lines).toEqual([`lab: removing a stale lock of pid ${other.pid} (migbench run, since long ago) that is no longer running`]);
  await lock.release();
  process.kill(other.pid);
});

test('a holder lends the lab to the programs it starts (the test suite, the bench): they use it without waiting', async () => {
  const lock = await holdLabForChildren('the tests', () => undefined);
  // Taken again by the same process (vitest runs the set-up once per project): nothing changes for the children.
  const again = await holdLabForChildren('the tests, again', () => undefined);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "import('./src/lab/lock.ts').then(async (m) => { const l = await m.acquireLabLock({ what: 'child', log: console.log, maxWaitMs: 2000 }); await m.assertLabFree('take the lab down'); await l.release(); console.log('ok'); })",
    ],
    {
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((resolve) => child.on('exit', resolve));
  expect(out.trim()).toBe('ok');
  // The child's release leaves the holder's lock in place.
  expect((await labLockHolder())?.pid).toBe(process.pid);
  await again.release();
  await lock.release();
  expect(await labLockHolder()).toBeNull();
});
