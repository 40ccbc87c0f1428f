// One run at a time on an embedded lab. Its hosts, guest address and MACs are fixed, so
// two runs on one lab would answer each other's probes, and the first to finish would
// take the lab down under the second (each lab, MIGBENCH_LAB, has a lock of its own). A run that uses the lab holds this lock from lab up
// to lab down; a second one waits, and says for whom. The lock is a file created with
// O_EXCL beside the lab's state (not inside it: lab down removes that folder), naming its
// holder by pid and start time (a pid the kernel gave again to another process is not the
// holder). A holder that died (a crash, SIGKILL) leaves a stale file: the next run removes
// it, under a second O_EXCL file so two waiters cannot both remove and both take it.
// A process that holds the lock for programs it starts (the test suite, the bench) says so
// in MIGBENCH_LAB_LOCK_HELD; they do not wait for it, but take turns among themselves on a
// second lock beside it (lab.lock.lent), with the same rules.
import { mkdirSync, readFileSync } from 'node:fs';
import { open, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MigbenchError } from '../model/errors.js';
import { DEFAULT_LAB_NAME, labDir, labName, labRoot } from '../model/paths.js';
import { epochMs, sleep } from '../model/time.js';
import { alive } from './processes.js';

export interface LabLockHolder {
  readonly pid: number;
  /** The holder's start time in clock ticks since boot (/proc/PID/stat field 22), when known. */
  readonly started?: number;
  /** What it is doing, in words (`migbench run`). */
  readonly what: string;
  readonly since: string;
}

export interface LabLock {
  readonly path: string;
  release(): Promise<void>;
}

/** The environment variable by which a holder lends its lock to the programs it starts. */
export const LOCK_HELD_ENV = 'MIGBENCH_LAB_LOCK_HELD';

/** A lock file nobody could read this long after it was written was left half-written by a holder that died. */
const UNREADABLE_STALE_MS = 5000;
/** A breaker file this old was left by a waiter that died while removing a stale lock. */
const BREAKER_STALE_MS = 10_000;

export function labLockPath(): string {
  return join(dirname(labDir()), 'lab.lock');
}

/** A process's start time in clock ticks since boot; null when it is gone. */
function startTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

/** The holder still runs: its pid is alive and, when recorded, started when the holder did. */
function holding(holder: LabLockHolder): boolean {
  return holder.pid > 0 && alive(holder.pid) && (holder.started === undefined || startTime(holder.pid) === holder.started);
}

/** Who holds the lab now; null when nobody does (no file, or its holder is gone). */
export async function labLockHolder(): Promise<LabLockHolder | null> {
  const holder = await readHolder(labLockPath());
  return holder && holding(holder) ? holder : null;
}

/** The lock's holder, or an unreadable one (pid 0) for a file being written or left half-written; null without a file. */
async function readHolder(path: string): Promise<LabLockHolder | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    const holder = JSON.parse(text) as Partial<LabLockHolder>;
    if (Number.isInteger(holder.pid) && typeof holder.what === 'string' && typeof holder.since === 'string') return holder as LabLockHolder;
  } catch {
    // Being written, or half-written by a holder that died: see isStale.
  }
  return { pid: 0, what: 'unknown (an unreadable lock file)', since: 'unknown' };
}

/** The lock is lent to this process by the process that holds it (an ancestor that set LOCK_HELD_ENV). */
function lentToUs(holder: LabLockHolder | null): boolean {
  return holder !== null && String(holder.pid) === process.env[LOCK_HELD_ENV] && holding(holder);
}

async function ageMs(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  return info ? Date.now() - info.mtimeMs : 0;
}

/** Whether the lock at `path` is left by a holder that is gone (a file still being written is not). */
async function isStale(path: string, holder: LabLockHolder): Promise<boolean> {
  if (holder.pid === 0) return (await ageMs(path)) > UNREADABLE_STALE_MS;
  return !holding(holder);
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

/** The lock the programs a holder lent the lab to take turns on. */
function lentLockPath(): string {
  return `${labLockPath()}.lent`;
}

/** Takes the lab for this process, waiting while another live process holds it; under a lent lock, waiting for its siblings only. */
export async function acquireLabLock(options: AcquireOptions): Promise<LabLock> {
  ensureFolder(labLockPath());
  return acquireAt(labLockPath(), options, true);
}

async function acquireAt(path: string, options: AcquireOptions, mayBeLent: boolean): Promise<LabLock> {
  const started = epochMs();
  let said = 0;
  for (;;) {
    const lock = await tryCreate(path, options.what);
    if (lock) {
      if (said) options.log(`lab: free after ${((epochMs() - started) / 1000).toFixed(1)} s of waiting`);
      return lock;
    }
    const holder = await readHolder(path);
    // This process holds it already (the test suite's set-up runs once per project): nothing more to take.
    if (mayBeLent && holder?.pid === process.pid && holding(holder)) return { path, release: async () => undefined };
    if (mayBeLent && lentToUs(holder)) return acquireAt(lentLockPath(), options, false);
    if (!holder) continue;
    if (await isStale(path, holder)) {
      await breakStale(path, holder, options.log);
      continue;
    }
    const waited = epochMs() - started;
    if (options.maxWaitMs !== undefined && waited >= options.maxWaitMs)
      throw new MigbenchError('MB_LAB', `the lab is in use by pid ${holder.pid} (${holder.what}, since ${holder.since}); gave up after ${Math.round(waited / 1000)} s`, {
        userError: true,
      });
    if (holder.pid !== 0 && waited >= said * (options.remindMs ?? 60_000)) {
      options.log(`lab: in use by pid ${holder.pid} (${holder.what}, since ${holder.since}): waiting for it to finish${said ? ` (${Math.round(waited / 1000)} s so far)` : ''}`);
      said++;
    }
    await sleep(options.pollMs ?? 500);
  }
}

/**
 * One attempt at a lock file of the lab lock's kind (pid, start time, what) at any path,
 * never waiting: null while a live process holds it. A stale one (its holder died) is
 * removed first, under the same breaker as the lab lock's.
 */
export async function tryLockFile(path: string, what: string, log: (line: string) => void): Promise<LabLock | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const lock = await tryCreate(path, what);
    if (lock) return lock;
    const holder = await readHolder(path);
    if (holder && !(await isStale(path, holder))) return null;
    if (holder) await breakStale(path, holder, log);
  }
  return null;
}

function ensureFolder(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new MigbenchError('MB_LAB', `cannot create ${dirname(path)} for the lab's lock: ${code} (the embedded lab needs root)`, { cause: error, userError: code === 'EACCES' });
  }
}

/**
 * Removes a stale lock, holding the breaker (a second O_EXCL file) while it looks again:
 * a waiter that saw the same dead holder a moment ago finds the lock already replaced by a
 * live one and leaves it. A breaker left by a waiter that died is removed once it is old.
 */
async function breakStale(path: string, seen: LabLockHolder, log: (line: string) => void): Promise<void> {
  const breaker = `${path}.break`;
  const handle = await open(breaker, 'wx').catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
    if ((await ageMs(breaker)) > BREAKER_STALE_MS) await rm(breaker, { force: true });
    return null;
  });
  if (!handle) return sleep(50);
  try {
    const now = await readHolder(path);
    if (now && now.pid === seen.pid && now.since === seen.since && (await isStale(path, now))) {
      log(`lab: removing a stale lock of ${now.pid ? `pid ${now.pid} (${now.what}, since ${now.since})` : 'a run'} that is no longer running`);
      await rm(path, { force: true });
    }
  } finally {
    await handle.close();
    await rm(breaker, { force: true });
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
  const holder: LabLockHolder = { pid: process.pid, started: startTime(process.pid) ?? undefined, what, since: new Date().toISOString() };
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
      await removeEmptyLabRoot();
    },
  };
}

/**
 * A named lab's folder (/run/migbench-NAME) goes once nothing is left in it: after lab down
 * and the lock's release, whichever comes last. The default lab's, /run/migbench, stays.
 */
export async function removeEmptyLabRoot(): Promise<void> {
  if (labName() === DEFAULT_LAB_NAME) return;
  await rmdir(labRoot()).catch(() => undefined);
}

/** Refuses when another live process holds the lab: what it would do to the lab would break that run. */
export async function assertLabFree(action: string): Promise<void> {
  const holder = await heldByAnother();
  if (holder)
    throw new MigbenchError(
      'MB_LAB',
      `cannot ${action}: the lab is in use by pid ${holder.pid} (${holder.what}, since ${holder.since}); let it finish or stop it first (its SIGINT finishes the running scenario)`,
      { userError: true },
    );
}

/** Whether another live process (not this one, nor the one that lent it the lock, nor a sibling's turn it is not in) holds the lab. */
export async function heldByAnother(): Promise<LabLockHolder | null> {
  const holder = await labLockHolder();
  if (!holder || holder.pid === process.pid) return null;
  if (!lentToUs(holder)) return holder;
  const sibling = await readHolder(lentLockPath());
  return sibling && sibling.pid !== process.pid && holding(sibling) ? sibling : null;
}

/** Removes the lock file when its holder is gone (lab down clears everything a killed run left). */
export async function removeStaleLock(): Promise<void> {
  for (const path of [labLockPath(), lentLockPath()]) {
    const holder = await readHolder(path);
    if (holder && (await isStale(path, holder))) await rm(path, { force: true });
  }
}

/**
 * Holds the lab for this process and lends it to the programs it starts (the test suite's
 * global set-up, the bench): their `migbench run`s use the lab under this lock.
 */
export async function holdLabForChildren(what: string, log: (line: string) => void): Promise<LabLock> {
  const lock = await acquireLabLock({ what, log });
  const previous = process.env[LOCK_HELD_ENV];
  process.env[LOCK_HELD_ENV] = String(process.pid);
  return {
    path: lock.path,
    release: async () => {
      if (previous === undefined) delete process.env[LOCK_HELD_ENV];
      else process.env[LOCK_HELD_ENV] = previous;
      await lock.release();
    },
  };
}
