// A QEMU migration from start to end: configure both sides, open the streams (and mirror
// the disk, for a storage migration), migrate, poll until it ends, and settle the outcome.
import { randomInt } from 'node:crypto';
import { errorMessage, MigbenchError, QmpError } from '../../model/errors.js';
import type { ProgressSample } from '../../generated/results.js';
import { NO_FIGURES, type MigrationHooks, type MigrationOutcome } from '../hypervisor.js';
import { toProgressSample, type MigrationProgress } from '../progress.js';
import type { MigrationSpec } from '../../model/scenario.js';
import { vmPaths } from './cmdline.js';
import { abandonMirror, exportDisk, mirrorDisk, settleMirror, stopExport, type Mirror } from './mirror.js';
import type { QmpMonitors } from './monitor.js';
import { collectEvents, toFigures } from './outcome.js';
import type { QmpClient, QmpEvent } from './qmp.js';
import { parseEnabledCapabilities, parseMigrationParameters, parseQueryMigrate, TERMINAL_STATUSES, toQmpCapabilities, toQmpParameters } from './translate.js';
import { tail, type QemuVm, type VmSide } from './vm.js';
import { epochMs, sleep } from '../../model/time.js';

/** What a migration needs of the driver: the sides' monitors (to reconnect) and how often to poll. */
export interface MigrationContext {
  readonly monitors: QmpMonitors;
  /** How often query-migrate is polled. @default 50 */
  readonly pollIntervalMs: number | undefined;
}

/** Where polling keeps its samples, and since when and until when it polls. */
interface PollAt {
  readonly startedAtMs: number;
  readonly deadline: number;
  readonly timeline: ProgressSample[];
  readonly onSample: ((sample: ProgressSample) => void) | undefined;
}

/** What polling a migration found; the source's monitor is the one it ended with (it may have reconnected). */
interface MigrationPoll {
  srcQmp: QmpClient;
  final: MigrationProgress | null;
  timedOut: boolean;
  pollError: unknown;
  reconnects: number;
}

/** Migrates the guest from its source QEMU to its destination QEMU (both started); how the migration ended is in the outcome. */
export async function migrateVm(ctx: MigrationContext, vm: QemuVm, plan: MigrationSpec, hooks: MigrationHooks): Promise<MigrationOutcome> {
  const src = vm.sides.source;
  const dst = vm.sides.destination;
  if (!src?.qmp || !dst?.qmp) throw new MigbenchError('MB_MIGRATION', 'migrate called before both QEMUs were started');
  const srcQmp = src.qmp;
  let dstQmp = dst.qmp;
  const storage = plan.kind === 'storage';
  if (storage && !src.diskPath) throw new MigbenchError('MB_MIGRATION', 'a storage migration needs a guest with a disk (guest.diskMiB)');
  const { parameters, capabilities } = await configure(srcQmp, dstQmp, plan);
  const { uri, nbdPort } = await openStreams(dst, dstQmp, storage, hooks);

  const timeline: ProgressSample[] = [];
  const deadline = epochMs() + plan.timeoutMs;
  let mirror: Mirror | null = null;
  if (storage) {
    mirror = await mirrorDisk(srcQmp, dst.host.migrationAddress, nbdPort!, deadline);
    if (mirror.readyAtMs === null) return mirrorNotReady(vm, plan, { src, srcQmp, dstQmp, mirror }, { parameters, capabilities });
  }

  const startedAtMs = epochMs();
  vm.migrationStartedAtMs = startedAtMs;
  vm.eventsSinceMs = mirror?.startedAtMs ?? startedAtMs;
  await srcQmp.execute('migrate', { uri });
  const poll = await pollMigration(ctx, src, srcQmp, plan, { startedAtMs, deadline, timeline, onSample: hooks.onSample });
  const status = poll.final?.status === 'completed' ? 'completed' : poll.final?.status === 'cancelled' ? 'cancelled' : 'failed';
  // Whatever dropped the source's monitor may have dropped the destination's too.
  dstQmp = await ctx.monitors.of(dst, 'destination').catch(() => dstQmp);
  const settled = mirror ? await settleMirror(mirror, status, poll.srcQmp, dstQmp) : null;
  const endedAtMs = epochMs();

  let resume: QmpEvent | null = null;
  if (status === 'completed' && !settled?.error) {
    vm.handle.location = 'destination';
    resume = await dstQmp.waitForEvent('RESUME', 10_000).catch(() => null);
  }
  const stop = poll.srcQmp.events.find((e) => e.event === 'STOP' && e.epochMs >= startedAtMs - 1);
  const figures = toFigures(poll.final, status, { startedAtMs, timeline, mirror, storage: settled?.storage ?? null, stop, resume });
  const events = collectEvents(startedAtMs, { source: poll.srcQmp.events, destination: dstQmp.events }, vm.eventsSinceMs);
  const error = await migrationError(poll, status, settled?.error, { plan, src, dst });
  const finalStatus = settled?.error ? 'failed' : poll.timedOut && status !== 'completed' ? 'cancelled' : status;
  return { status: finalStatus, error, startedAtMs, endedAtMs, storage: settled?.storage ?? null, figures, timeline, events, parameters, capabilities };
}

/** Capabilities on both sides, parameters on the source (multifd's channel count on both), and what QEMU then says is in force. */
async function configure(srcQmp: QmpClient, dstQmp: QmpClient, plan: MigrationSpec): Promise<Pick<MigrationOutcome, 'parameters' | 'capabilities'>> {
  const caps = toQmpCapabilities(plan);
  await srcQmp.execute('migrate-set-capabilities', { capabilities: caps });
  await dstQmp.execute('migrate-set-capabilities', { capabilities: caps });
  const params = toQmpParameters(plan);
  if (Object.keys(params).length) await srcQmp.execute('migrate-set-parameters', params);
  if (params['multifd-channels'] !== undefined) await dstQmp.execute('migrate-set-parameters', { 'multifd-channels': params['multifd-channels'] });
  const parameters = parseMigrationParameters(await srcQmp.execute('query-migrate-parameters'));
  const capabilities = parseEnabledCapabilities(await srcQmp.execute('query-migrate-capabilities'));
  return { parameters, capabilities };
}

/** The destination listens (and exports its disk, for a storage migration); the hooks learn the ports before any byte is sent. */
async function openStreams(dst: VmSide, dstQmp: QmpClient, storage: boolean, hooks: MigrationHooks): Promise<{ uri: string; nbdPort: number | undefined }> {
  const uri = await listen(dstQmp, dst.host.migrationAddress);
  const ramPort = Number(uri.slice(uri.lastIndexOf(':') + 1));
  const nbdPort = storage ? await exportDisk(dstQmp, dst.host.migrationAddress) : undefined;
  await hooks.beforeTransfer?.({ ram: ramPort, ...(nbdPort !== undefined && { disk: nbdPort }) });
  return { uri, nbdPort };
}

/** The disk mirror failed or was not ready by the deadline: the guest never stopped and keeps running on the source with its own disk. */
async function mirrorNotReady(
  vm: QemuVm,
  plan: MigrationSpec,
  on: { src: VmSide; srcQmp: QmpClient; dstQmp: QmpClient; mirror: Mirror },
  set: Pick<MigrationOutcome, 'parameters' | 'capabilities'>,
): Promise<MigrationOutcome> {
  const { src, srcQmp, dstQmp, mirror } = on;
  const startedAtMs = epochMs();
  vm.migrationStartedAtMs = startedAtMs;
  vm.eventsSinceMs = mirror.startedAtMs;
  const job = await abandonMirror(srcQmp);
  await stopExport(dstQmp);
  const timedOut = mirror.error === null;
  return {
    status: timedOut ? 'cancelled' : 'failed',
    error: new MigbenchError(
      timedOut ? 'MB_TIMEOUT' : 'MB_MIGRATION',
      timedOut ? `disk mirror not ready within ${plan.timeoutMs} ms; cancelled` : `disk mirror failed: ${mirror.error}`,
      {
        context: { host: src.host.runner.host, qmpCommand: 'blockdev-mirror' },
      },
    ),
    startedAtMs,
    endedAtMs: epochMs(),
    storage: { mirrorStartedAtMs: mirror.startedAtMs, mirrorReadyAtMs: null, jobLenBytes: job?.lenBytes ?? null, jobOffsetBytes: job?.offsetBytes ?? null, cancelMs: null },
    figures: { ...NO_FIGURES, mirrorTimeMs: null },
    timeline: [],
    events: collectEvents(startedAtMs, { source: srcQmp.events, destination: dstQmp.events }, mirror.startedAtMs),
    parameters: set.parameters,
    capabilities: set.capabilities,
  };
}

/**
 * Polls query-migrate until the migration ends, then settles a completion's figures;
 * starts postcopy when the plan says, cancels at the deadline. Not the vendors' task
 * poller (poll.ts): postcopy is started between polls and cannot be cancelled, the deadline
 * includes the disk mirror, and a migrate_cancel QEMU refuses means the migration is lost.
 * A failure to follow the migration ends polling and is reported, never thrown.
 */
async function pollMigration(ctx: MigrationContext, src: VmSide, srcQmp: QmpClient, plan: MigrationSpec, at: PollAt): Promise<MigrationPoll> {
  const poll: MigrationPoll = { srcQmp, final: null, timedOut: false, pollError: undefined, reconnects: 0 };
  try {
    await pollUntilEnded(ctx, src, poll, plan, at);
  } catch (error) {
    poll.pollError = error;
  }
  return poll;
}

async function pollUntilEnded(ctx: MigrationContext, src: VmSide, poll: MigrationPoll, plan: MigrationSpec, at: PollAt): Promise<void> {
  const { startedAtMs, deadline, timeline, onSample } = at;
  let postcopyStarted = false;
  const pollMs = ctx.pollIntervalMs ?? 50;
  for (;;) {
    const progress = parseQueryMigrate(await queryMigrate(ctx.monitors, src, poll));
    const now = epochMs();
    const sample = toProgressSample(progress, now - startedAtMs);
    timeline.push(sample);
    onSample?.(sample);
    if (TERMINAL_STATUSES.has(progress.status)) {
      poll.final = progress.status === 'completed' ? await settledCompletion(poll.srcQmp, progress) : progress;
      if (poll.final !== progress) timeline.push(toProgressSample(poll.final, epochMs() - startedAtMs));
      return;
    }
    if (plan.postcopyAfterMs !== undefined && !postcopyStarted && progress.status === 'active' && now - startedAtMs >= plan.postcopyAfterMs) {
      postcopyStarted = true;
      await poll.srcQmp.execute('migrate-start-postcopy');
    }
    // Postcopy cannot be cancelled: the guest already runs on the destination.
    if (!poll.timedOut && now > deadline && !progress.status.startsWith('postcopy')) {
      poll.timedOut = true;
      await poll.srcQmp.execute('migrate_cancel');
    }
    await sleep(pollMs);
  }
}

/** query-migrate on the source; losing the monitor must not orphan the migration: reconnect (3 times in all) and ask again. */
async function queryMigrate(monitors: QmpMonitors, src: VmSide, poll: MigrationPoll): Promise<unknown> {
  for (;;) {
    try {
      return await poll.srcQmp.execute('query-migrate');
    } catch (error) {
      if (!(error instanceof QmpError && error.code === 'MB_QMP_CLOSED') || ++poll.reconnects > 3) throw error;
      poll.srcQmp = await monitors.of(src, 'source');
    }
  }
}

/**
 * QEMU 7.2 sets the state to completed before it computes total-time and downtime
 * (migration_calculate_complete runs after), so a poll can see "completed" with both 0.
 * A completed migration never takes 0 ms: ask again until the figures are in.
 */
async function settledCompletion(qmp: QmpClient, first: MigrationProgress): Promise<MigrationProgress> {
  let progress = first;
  for (let attempt = 0; attempt < 100 && !progress.totalTimeMs; attempt++) {
    await sleep(10);
    progress = parseQueryMigrate(await qmp.execute('query-migrate'));
  }
  return progress;
}

/** Starts the destination listening on a free port of its migration address. */
async function listen(dstQmp: QmpClient, address: string): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const uri = `tcp:${address}:${randomInt(49152, 61000)}`;
    try {
      await dstQmp.execute('migrate-incoming', { uri });
      return uri;
    } catch (error) {
      lastError = error;
      if (!/in use/i.test(errorMessage(error))) throw error;
    }
  }
  throw lastError;
}

/** Why the migration did not complete, first cause first; null when it did. */
async function migrationError(
  poll: MigrationPoll,
  status: MigrationOutcome['status'],
  storageError: unknown,
  of: { plan: MigrationSpec; src: VmSide; dst: VmSide },
): Promise<MigbenchError | null> {
  const { plan, src, dst } = of;
  if (poll.pollError) {
    return new MigbenchError('MB_MIGRATION', `lost track of the migration: ${errorMessage(poll.pollError)}`, { cause: poll.pollError, context: { host: src.host.runner.host } });
  }
  if (poll.timedOut) {
    return new MigbenchError('MB_TIMEOUT', `migration did not complete within ${plan.timeoutMs} ms and was cancelled (status ${poll.final?.status})`, {
      context: { host: src.host.runner.host },
    });
  }
  if (status === 'failed') {
    const dstLog = await tail(dst, vmPaths(dst.dir).log, 5);
    return new MigbenchError(
      'MB_MIGRATION',
      `migration failed: ${poll.final?.errorDescription ?? 'no error description'}${dstLog ? ` (destination: ${dstLog.replaceAll('\n', ' | ')})` : ''}`,
      {
        context: { host: src.host.runner.host },
      },
    );
  }
  if (storageError) {
    return new MigbenchError('MB_MIGRATION', `memory migration completed but finishing the disk copy failed: ${errorMessage(storageError)}`, {
      cause: storageError,
      context: { host: src.host.runner.host, qmpCommand: 'block-job-cancel' },
    });
  }
  return null;
}
