// A storage migration's disk: the destination exports its empty disk over NBD, the
// source mirrors into it, and the mirror is brought in sync or abandoned once the memory
// migration has ended.
import { randomInt } from 'node:crypto';
import { errorMessage, MigbenchError } from '../../model/errors.js';
import type { MigrationOutcome, StorageOutcome } from '../hypervisor.js';
import { DISK_NODE } from './cmdline.js';
import type { QmpClient, QmpEvent } from './qmp.js';
import { parseBlockJob } from './translate.js';
import { epochMs } from '../../model/time.js';

const MIRROR_JOB = 'mbmirror';
const NBD_TARGET_NODE = 'mbnbd';
const NBD_EXPORT = 'mbdisk';

/** A storage migration's disk mirror: when it started, when it was ready, or why it failed. */
export interface Mirror {
  readonly startedAtMs: number;
  readonly readyAtMs: number | null;
  readonly error: string | null;
}

/** Ends the disk mirror: brought in sync and the destination resumed if the memory migration completed, abandoned if not. */
export async function settleMirror(mirror: Mirror, status: MigrationOutcome['status'], srcQmp: QmpClient, dstQmp: QmpClient): Promise<{ storage: StorageOutcome; error: unknown }> {
  let job: ReturnType<typeof parseBlockJob> | null = null;
  let cancelMs: number | null = null;
  let error: unknown;
  try {
    if (status === 'completed') {
      // A ready mirror that is cancelled copies what is still dirty, then finishes with
      // the source keeping its disk; the destination stays paused until then.
      const cancelStarted = epochMs();
      job = await finishMirror(srcQmp);
      cancelMs = Math.round((epochMs() - cancelStarted) * 1000) / 1000;
      await dstQmp.execute('cont');
    } else {
      job = await abandonMirror(srcQmp);
    }
    await srcQmp.execute('blockdev-del', { 'node-name': NBD_TARGET_NODE }).catch(() => undefined);
    await stopExport(dstQmp);
  } catch (caught) {
    error = caught;
  }
  return {
    storage: { mirrorStartedAtMs: mirror.startedAtMs, mirrorReadyAtMs: mirror.readyAtMs, jobLenBytes: job?.lenBytes ?? null, jobOffsetBytes: job?.offsetBytes ?? null, cancelMs },
    error,
  };
}

/** NBD server on the destination's migration address, exporting its (empty) disk writable. */
export async function exportDisk(dstQmp: QmpClient, address: string): Promise<number> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = randomInt(49152, 61000);
    try {
      // QEMU 7.2 wants the legacy {type, data} form of SocketAddress here.
      await dstQmp.execute('nbd-server-start', { addr: { type: 'inet', data: { host: address, port: String(port) } } });
      await dstQmp.execute('block-export-add', { type: 'nbd', id: NBD_EXPORT, 'node-name': DISK_NODE, name: NBD_EXPORT, writable: true });
      return port;
    } catch (error) {
      lastError = error;
      await dstQmp.execute('nbd-server-stop').catch(() => undefined);
      if (!/in use/i.test(errorMessage(error))) throw error;
    }
  }
  throw lastError;
}

/** Mirrors the source disk into the destination's export; resolves when ready, failed or at the deadline. */
export async function mirrorDisk(srcQmp: QmpClient, address: string, port: number, deadlineMs: number): Promise<Mirror> {
  await srcQmp.execute('blockdev-add', { driver: 'nbd', 'node-name': NBD_TARGET_NODE, server: { type: 'inet', host: address, port: String(port) }, export: NBD_EXPORT });
  const startedAtMs = epochMs();
  await srcQmp.execute('blockdev-mirror', { 'job-id': MIRROR_JOB, device: DISK_NODE, target: NBD_TARGET_NODE, sync: 'full' });
  const mine = (e: QmpEvent) => e.epochMs >= startedAtMs - 1 && parseBlockJob(e.data).jobId === MIRROR_JOB;
  try {
    // A job that fails (a full destination, a dropped NBD connection) completes with its
    // error at once: waiting for READY until the deadline would only hide that.
    const event = await srcQmp.waitForEvent(['BLOCK_JOB_READY', 'BLOCK_JOB_COMPLETED'], Math.max(0, deadlineMs - epochMs()), (e) => mine(e));
    if (event.event === 'BLOCK_JOB_READY') return { startedAtMs, readyAtMs: event.epochMs, error: null };
    return { startedAtMs, readyAtMs: null, error: mirrorFailure(srcQmp.events.filter(mine)) };
  } catch {
    const mineSoFar = srcQmp.events.filter(mine);
    return { startedAtMs, readyAtMs: null, error: mineSoFar.some((e) => e.event === 'BLOCK_JOB_COMPLETED' || e.event === 'BLOCK_JOB_ERROR') ? mirrorFailure(mineSoFar) : null };
  }
}

/** block-job-cancel on a ready mirror: the copy is brought in sync, then the job ends. */
async function finishMirror(srcQmp: QmpClient): Promise<ReturnType<typeof parseBlockJob>> {
  const since = epochMs();
  await srcQmp.execute('block-job-cancel', { device: MIRROR_JOB });
  const done = await srcQmp.waitForEvent('BLOCK_JOB_COMPLETED', 60_000, (e) => e.epochMs >= since - 1 && parseBlockJob(e.data).jobId === MIRROR_JOB);
  const job = parseBlockJob(done.data);
  if (job.error) throw new MigbenchError('MB_MIGRATION', `disk mirror ended with an error: ${job.error}`);
  return job;
}

/** Stops a mirror without syncing (the migration did not complete); the source keeps its disk. */
export async function abandonMirror(srcQmp: QmpClient): Promise<ReturnType<typeof parseBlockJob> | null> {
  const since = epochMs();
  const before = parseBlockJob(((await srcQmp.execute('query-block-jobs').catch(() => [])) as unknown[]).find((j) => parseBlockJob(j).jobId === MIRROR_JOB));
  await srcQmp.execute('block-job-cancel', { device: MIRROR_JOB, force: true }).catch(() => undefined);
  const done = await srcQmp
    .waitForEvent('BLOCK_JOB_CANCELLED', 30_000, (e) => e.epochMs >= since - 1 && parseBlockJob(e.data).jobId === MIRROR_JOB)
    .catch(() => srcQmp.events.find((e) => e.event.startsWith('BLOCK_JOB_') && e.epochMs >= since - 1 && parseBlockJob(e.data).jobId === MIRROR_JOB) ?? null);
  await srcQmp.execute('blockdev-del', { 'node-name': NBD_TARGET_NODE }).catch(() => undefined);
  return done ? parseBlockJob(done.data) : before.jobId ? before : null;
}

export async function stopExport(dstQmp: QmpClient): Promise<void> {
  if (dstQmp.closed) return;
  await dstQmp.execute('nbd-server-stop').catch(() => undefined);
}

/**
 * Why a mirror job failed, in QEMU's words: BLOCK_JOB_COMPLETED's error ("No space left on
 * device"), and from BLOCK_JOB_ERROR which side's I/O failed (a write is the destination's).
 */
export function mirrorFailure(events: readonly QmpEvent[]): string {
  const completed = events.find((e) => e.event === 'BLOCK_JOB_COMPLETED');
  const failedIo = events.find((e) => e.event === 'BLOCK_JOB_ERROR');
  const reason = (completed && parseBlockJob(completed.data).error) || (failedIo ? 'BLOCK_JOB_ERROR' : 'the job ended before it was ready');
  const operation = failedIo && typeof failedIo.data.operation === 'string' ? failedIo.data.operation : null;
  const where = operation === 'write' ? ' (writing to the destination)' : operation === 'read' ? ' (reading the source disk)' : '';
  return `${reason}${where}`;
}
