// One run at a time on the embedded lab. Its hosts, guest address and MACs are fixed, so
// two runs on one machine would answer each other's probes, and the first to finish would
// take the lab down under the second. A run that uses the lab holds this lock from lab up
// to lab down; a second one waits, and says for whom. The lock is a file created with
// O_EXCL beside the lab's state (not inside it: lab down removes that folder); a holder
// that died (a crash, SIGKILL) leaves a stale file, which the next run removes.
import { open, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { MigbenchError } from '../model/errors.js';
import { labDir } from '../model/paths.js';
import { epochMs, sleep } from '../model/time.js';
import { alive } from './processes.js';

export interface LabLockHolder {
  readonly pid: number;
  /** What it is doing, in words (`migbench run`). */
  readonly what: string;
  readonly since: string;
}

export interface LabLock {
  readonly path: string;
  release(): Promise<void>;
}

export function labLockPath(): string {
  return join(dirname(labDir()), 'lab.lock');
}

/** Who holds the lab now; null when nobody does (no file, or its holder is gone). */
export async function labLockHolder(): Promise<LabLockHolder | null> {
  const holder = await readHolder(labLockPath());
  return holder && alive(holder.pid) ? holder : null;
}

async function readHolder(path: string): Promise<LabLockHolder | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const holder = JSON.parse(text) as Partial<LabLockHolder>;
    if (Number.isInteger(holder.pid) && typeof holder.what === 'string' && typeof holder.since === 'string') return holder as LabLockHolder;
  } catch {
    // Half-written by a holder that died while writing: stale below.
  }
  return { pid: 0, what: 'unknown (an unreadable lock file)', since: 'unknown' };
}

export interface AcquireOptions {
  readonly what: string;
  readonly log: (line: string) => void;
  /** How often to look again while another run holds it. @default 500 */
  readonly pollMs?: number;
  /** How often to say it is still waiting. @default 60000 */
  readonly remindMs?: number;
  /** Give up after this long (infinite by default: a CI job has its own timeout). */
  readonly maxWaitMs?: number;
}

/** Takes the lab for this process, waiting while another live process holds it. */
export async function acquireLabLock(options: AcquireOptions): Promise<LabLock> {
  const path = labLockPath();
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new MigbenchError('MB_LAB', `cannot create ${dirname(path)} for the lab's lock: ${code} (the embedded lab needs root)`, { cause: error, userError: code === 'EACCES' });
  }
  const started = epochMs();
  let said = 0;
  for (;;) {
    const lock = await tryCreate(path, options.what);
    if (lock) {
      if (said) options.log(`lab: free after ${((epochMs() - started) / 1000).toFixed(1)} s of waiting`);
      return lock;
    }
    const holder = await readHolder(path);
    if (!holder || !alive(holder.pid)) {
      // The holder is gone: its lock is stale. (Two waiters may both see that; O_EXCL lets one win.)
      options.log(`lab: removing a stale lock of ${holder ? `pid ${holder.pid} (${holder.what}, since ${holder.since})` : 'a run'} that is no longer running`);
      await rm(path, { force: true });
      continue;
    }
    if (holder.pid === process.pid) throw new MigbenchError('MB_LAB', 'this process already holds the lab lock');
    const waited = epochMs() - started;
    if (options.maxWaitMs !== undefined && waited >= options.maxWaitMs)
      throw new MigbenchError('MB_LAB', `the lab is in use by pid ${holder.pid} (${holder.what}, since ${holder.since}); gave up after ${Math.round(waited / 1000)} s`, {
        userError: true,
      });
    if (waited >= said * (options.remindMs ?? 60_000)) {
      options.log(`lab: in use by pid ${holder.pid} (${holder.what}, since ${holder.since}): waiting for it to finish${said ? ` (${Math.round(waited / 1000)} s so far)` : ''}`);
      said++;
    }
    await sleep(options.pollMs ?? 500);
  }
}

async function tryCreate(path: string, what: string): Promise<LabLock | null> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw new MigbenchError('MB_LAB', `cannot create the lab lock ${path}: ${(error as Error).message}`, { cause: error });
  }
  const holder: LabLockHolder = { pid: process.pid, what, since: new Date().toISOString() };
  try {
    await handle.writeFile(`${JSON.stringify(holder)}\n`);
  } finally {
    await handle.close();
  }
  let released = false;
  return {
    path,
    release: async () => {
      if (released) return;
      released = true;
      // Only our own: a lock file of another pid here would mean ours was removed as stale.
      const now = await readHolder(path);
      if (now?.pid === process.pid) await rm(path, { force: true });
    },
  };
}

/** Refuses when another live process holds the lab: what it would do to the lab would break that run. */
export async function assertLabFree(action: string): Promise<void> {
  const holder = await labLockHolder();
  if (holder && holder.pid !== process.pid)
    throw new MigbenchError(
      'MB_LAB',
      `cannot ${action}: the lab is in use by pid ${holder.pid} (${holder.what}, since ${holder.since}); let it finish or stop it first (its SIGINT finishes the running scenario)`,
      { userError: true },
    );
}

/** Removes the lock file when its holder is gone (lab down clears everything a killed run left). */
export async function removeStaleLock(): Promise<void> {
  const holder = await readHolder(labLockPath());
  if (holder && !alive(holder.pid)) await rm(labLockPath(), { force: true });
}
