// The QEMU driver: QEMU processes on two hosts, driven over QMP, reached through the
// hosts' command runners (SSH for remote hosts, the QMP socket forwarded over it).
import { randomInt } from 'node:crypto';
import { errorMessage, MigbenchError, QmpError, runCleanups } from '../../model/errors.js';
import type { HostEnvironment, HypervisorEvent, ProgressSample } from '../../generated/results.js';
import { describeHost, installGuestFiles, processAlive, waitForExit, type LocalFile } from '../../exec/host.js';
import {
  NO_FIGURES,
  type AgentEndpoint,
  type GuestHandle,
  type GuestInspection,
  type GuestLaunch,
  type Hypervisor,
  type HypervisorFigures,
  type MigrationHooks,
  type MigrationOutcome,
  type StorageOutcome,
  type TargetHost,
} from '../hypervisor.js';

import { peak, toProgressSample, type MigrationProgress } from '../progress.js';
import type { MigrationSpec } from '../../model/scenario.js';
import type { GuestImage } from '../../setup/image.js';
import { chooseAccel, type AccelChoice } from './accel.js';
import { DISK_NODE, qemuArgv, vmPaths, type Accel } from './cmdline.js';
import { QmpClient, type QmpEvent } from './qmp.js';
import { parseBlockJob, parseEnabledCapabilities, parseMigrationParameters, parseQueryMigrate, TERMINAL_STATUSES, toQmpCapabilities, toQmpParameters } from './translate.js';
import { epochMs, sleep } from '../../model/time.js';
import type { Side } from '../../model/side.js';

export interface QemuDriverOptions {
  readonly source: TargetHost;
  readonly destination: TargetHost;
  /** @default qemu-system-x86_64 */
  readonly binary?: string;
  /** @default q35 */
  readonly machine?: string;
  /** @default auto */
  readonly accel?: 'auto' | Accel;
  readonly image: GuestImage;
  readonly probeTool: LocalFile;
  /** Every QMP line on either host, for recording transcripts. */
  readonly transcript?: (side: Side, direction: '>' | '<', line: string) => void;
  /** How often query-migrate is polled. @default 50 */
  readonly pollIntervalMs?: number;
  /** Pad guest RAM under TCG on QEMU < 9.0 (see needsTcgDirtyBitmapWorkaround). @default true */
  readonly tcgDirtyBitmapWorkaround?: boolean;
  /** A folder both hosts see at this path: memory migration keeps the guest's disk there. */
  readonly sharedStorageDir?: string;
}

const MIRROR_JOB = 'mbmirror';
const NBD_TARGET_NODE = 'mbnbd';
const NBD_EXPORT = 'mbdisk';

/** 8 KiB: QEMU rounds RAM to 8 KiB, and 2 pages are not a multiple of the 64-page bitmap word. */
export const TCG_RAM_PADDING_KIB = 8;

/**
 * QEMU before 9.0 clears the migration dirty bitmap a word (64 pages) at a time without
 * resetting TCG's TLB dirty state, so writes after a sync go unrecorded and migrated
 * guests arrive damaged (fixed by 03bfc2188f, "physmem: Fix migration dirty bitmap
 * coherency with TCG memory access"). That fast path is only taken for RAM blocks whose
 * size is a multiple of 64 pages; padding the RAM routes QEMU through its per-page path,
 * which does reset the TLB. KVM keeps its own dirty log and is not affected.
 */
export function needsTcgDirtyBitmapWorkaround(accel: Accel, qemuVersion: string): boolean {
  const major = /QEMU (?:emulator version )?(\d+)\./.exec(qemuVersion)?.[1];
  return accel === 'tcg' && major !== undefined && Number(major) < 9;
}

interface HostSetup {
  readonly kernelPath: string;
  readonly initrdPath: string;
  readonly toolPath: string;
  readonly accel: AccelChoice;
  readonly version: string;
}

interface VmSide {
  readonly host: TargetHost;
  readonly dir: string;
  readonly diskPath: string | null;
  readonly tap: string;
  readonly toolPath: string;
  pid: number | null;
  qmp: QmpClient | null;
}

interface QemuVm {
  readonly handle: GuestHandle;
  readonly sides: Partial<Record<Side, VmSide>>;
  /** When the last migrate command was issued (the events' time origin). */
  migrationStartedAtMs: number | null;
  /** Events from here on belong to the migration (a storage migration's mirror starts first). */
  eventsSinceMs: number | null;
}

/** A storage migration's disk mirror: when it started, when it was ready, or why it failed. */
interface Mirror {
  readonly startedAtMs: number;
  readonly readyAtMs: number | null;
  readonly error: string | null;
}

/** What polling a migration found; the source's monitor is the one it ended with (it may have reconnected). */
interface MigrationPoll {
  srcQmp: QmpClient;
  final: MigrationProgress | null;
  timedOut: boolean;
  pollError: unknown;
  reconnects: number;
}

export class QemuHypervisor implements Hypervisor {
  readonly kind = 'qemu' as const;
  private readonly binary: string;
  private readonly machine: string;
  private readonly setups = new Map<Side, Promise<HostSetup>>();
  private readonly vms = new Map<string, QemuVm>();

  constructor(private readonly options: QemuDriverOptions) {
    this.binary = options.binary ?? 'qemu-system-x86_64';
    this.machine = options.machine ?? 'q35';
  }

  private host(side: Side): TargetHost {
    return side === 'source' ? this.options.source : this.options.destination;
  }

  /** Guest image and migbench-probe on the host, and its accelerator; once per host. */
  private setup(side: Side): Promise<HostSetup> {
    let setup = this.setups.get(side);
    if (!setup) {
      setup = (async () => {
        const { runner } = this.host(side);
        const { kernelPath, initrdPath, toolPath } = await installGuestFiles(runner, {
          kernel: this.options.image.kernel,
          initrd: this.options.image.initrd,
          probeTool: this.options.probeTool,
        });
        const accel = await chooseAccel(runner, { binary: this.binary, machine: this.machine, kernelPath, requested: this.options.accel ?? 'auto' });
        const version = (await runner.run([this.binary, '--version'], { timeoutMs: 10_000 })).stdout.split('\n')[0]!.replace(/^QEMU emulator version /, 'QEMU ');
        return { kernelPath, initrdPath, toolPath, accel, version };
      })();
      setup.catch(() => this.setups.delete(side));
      this.setups.set(side, setup);
    }
    return setup;
  }

  async describe(): Promise<{ source: HostEnvironment; destination: HostEnvironment }> {
    const describeSide = async (side: Side) => {
      const s = await this.setup(side);
      return describeHost(this.host(side).runner, s.version, s.accel.accel, s.accel.reason);
    };
    return { source: await describeSide('source'), destination: await describeSide('destination') };
  }

  private vm(guest: GuestHandle): QemuVm {
    const vm = this.vms.get(guest.vmId);
    if (!vm) throw new MigbenchError('MB_GUEST', `unknown guest ${guest.vmId}`);
    return vm;
  }

  /** RAM padding (KiB) both sides use, and the workaround it stands for. */
  private async ramPadding(): Promise<{ kib: number; note: string | null }> {
    const setup = await this.setup('source');
    if (this.options.tcgDirtyBitmapWorkaround === false || !needsTcgDirtyBitmapWorkaround(setup.accel.accel, setup.version)) return { kib: 0, note: null };
    return {
      kib: TCG_RAM_PADDING_KIB,
      note: `guest RAM padded by ${TCG_RAM_PADDING_KIB} KiB: ${setup.version.split(' (')[0]} under TCG loses pages dirtied after a dirty-bitmap sync unless RAM is not a multiple of 256 KiB (fixed in QEMU 9.0, commit 03bfc2188f)`,
    };
  }

  /** The guest's disk on a side: one image in the shared folder, or one per host. */
  private diskPath(launch: GuestLaunch, side: Side, vmDir: string): string | null {
    if (launch.guest.diskMiB <= 0) return null;
    if (launch.storage === 'local') return `${vmDir}/disk.qcow2`;
    if (!this.options.sharedStorageDir) {
      throw new MigbenchError(
        'MB_CONFIG_INVALID',
        `memory migration keeps the disk on storage both hosts see: set sharedStorageDir in the target (${this.host(side).runner.host})`,
        { userError: true },
      );
    }
    return `${this.options.sharedStorageDir}/${launch.vmId}.qcow2`;
  }

  private async startSide(vm: QemuVm, side: Side, incoming: boolean, startPaused = false): Promise<VmSide> {
    const host = this.host(side);
    const setup = await this.setup(side);
    const other = side === 'source' ? 'destination' : 'source';
    const otherSetup = this.setups.get(other);
    if (otherSetup) {
      const o = await otherSetup;
      if (o.accel.accel !== setup.accel.accel) {
        throw new MigbenchError('MB_GUEST', `the hosts disagree on the accelerator (${other}: ${o.accel.accel}, ${side}: ${setup.accel.accel}); set qemu.accel in the target`);
      }
    }
    const { runner } = host;
    const launch = vm.handle.launch;
    const dir = `${host.workDir}/vms/${launch.vmId}-${side}`;
    const entry: VmSide = { host, dir, diskPath: this.diskPath(launch, side, dir), tap: `mbt${launch.vmId.slice(-6)}`, toolPath: setup.toolPath, pid: null, qmp: null };
    vm.sides[side] = entry;
    await this.prepareSide(entry, side, launch);
    const argv = qemuArgv(launch, {
      binary: this.binary,
      machine: this.machine,
      accel: setup.accel.accel,
      kernelPath: setup.kernelPath,
      initrdPath: setup.initrdPath,
      vmDir: entry.dir,
      tap: entry.tap,
      incoming,
      ramPaddingKiB: (await this.ramPadding()).kib,
      ...(entry.diskPath && { diskPath: entry.diskPath }),
      startPaused,
    });
    const paths = vmPaths(entry.dir);
    const started = await runner.run([setup.toolPath, 'daemon', '-o', paths.log, '--', ...argv], { timeoutMs: 30_000 });
    entry.pid = Number(started.stdout.trim());
    entry.qmp = await this.connectQmp(entry, side, 15_000);
    return entry;
  }

  /** The side's folder, its disk (where it gets one) and its tap on the host's bridge. */
  private async prepareSide(entry: VmSide, side: Side, launch: GuestLaunch): Promise<void> {
    const { runner } = entry.host;
    // The source creates the disk; a storage migration's destination gets an empty one of the same size.
    const createsDisk = entry.diskPath && (side === 'source' || launch.storage === 'local') ? entry.diskPath : null;
    await runner.run(['mkdir', '-p', entry.dir, ...(createsDisk ? [createsDisk.slice(0, createsDisk.lastIndexOf('/')) || '/'] : [])]);
    // Disk and tap are independent: each command is a round trip to the host, so both go at once.
    const disk = async () => {
      if (createsDisk) await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', createsDisk, `${launch.guest.diskMiB}M`], { timeoutMs: 60_000 });
    };
    const tap = async () => {
      // A stale tap of the same name (a crashed run) would make QEMU fail; replace it.
      await runner.run(['ip', 'link', 'del', entry.tap], { check: false });
      await runner.run(['ip', 'tuntap', 'add', 'dev', entry.tap, 'mode', 'tap']);
      await runner.run(['ip', 'link', 'set', 'dev', entry.tap, 'master', entry.host.bridge, 'up']);
    };
    const [diskDone, tapDone] = await Promise.allSettled([disk(), tap()]);
    for (const done of [diskDone, tapDone]) if (done.status === 'rejected') throw done.reason;
  }

  /**
   * The side's QMP connection, made again if it was lost (the SSH connection under it
   * dropped, QEMU closed it): QEMU's monitor takes a new client, and a migration that was
   * running is still running. Events received meanwhile are lost; the gap is recorded.
   */
  private async qmpOf(entry: VmSide, side: Side): Promise<QmpClient> {
    if (entry.qmp && !entry.qmp.closed) return entry.qmp;
    const events = entry.qmp?.events ?? [];
    const lostAtMs = epochMs();
    entry.qmp = await this.connectQmp(entry, side, 10_000, events);
    events.push({ event: 'MIGBENCH_QMP_RECONNECTED', data: { lostAtMs, reconnectedAtMs: epochMs() }, epochMs: epochMs() });
    return entry.qmp;
  }

  private async connectQmp(entry: VmSide, side: Side, timeoutMs: number, events?: QmpEvent[]): Promise<QmpClient> {
    const { runner } = entry.host;
    const socket = vmPaths(entry.dir).qmp;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const stream = await runner.openUnixSocket(socket);
        return await QmpClient.connect(stream, {
          host: runner.host,
          socket,
          ...(events && { events }),
          ...(this.options.transcript && { transcript: (direction: '>' | '<', line: string) => this.options.transcript!(side, direction, line) }),
        });
      } catch (error) {
        const dead = entry.pid !== null && !(await processAlive(runner, entry.pid));
        if (dead || Date.now() > deadline) {
          const log = await this.tail(entry, vmPaths(entry.dir).log);
          throw new MigbenchError('MB_GUEST', `${runner.host}: QEMU ${dead ? 'exited' : 'did not open its QMP socket'} while starting${log ? `: ${log}` : ''}`, {
            cause: error,
            context: { host: runner.host },
          });
        }
        await sleep(50);
      }
    }
  }

  private async tail(entry: VmSide, file: string, lines = 12): Promise<string> {
    const out = await entry.host.runner.run(['tail', '-n', String(lines), file], { check: false, timeoutMs: 10_000 }).catch(() => null);
    return out?.ok ? out.stdout.trim() : '';
  }

  async startGuest(launch: GuestLaunch): Promise<GuestHandle> {
    if (!/^[a-z0-9]{4,12}$/.test(launch.vmId)) throw new MigbenchError('MB_GUEST', `bad VM id ${launch.vmId}`);
    const padding = await this.ramPadding();
    const handle: GuestHandle = { vmId: launch.vmId, launch, location: 'source', workarounds: padding.note ? [padding.note] : [] };
    const vm: QemuVm = { handle, sides: {}, migrationStartedAtMs: null, eventsSinceMs: null };
    this.vms.set(launch.vmId, vm);
    await this.startSide(vm, 'source', false);
    return handle;
  }

  async prepareDestination(guest: GuestHandle, plan: MigrationSpec): Promise<void> {
    const expected = plan.kind === 'storage' ? 'local' : 'shared';
    if (guest.launch.storage !== expected)
      throw new MigbenchError('MB_MIGRATION', `a ${plan.kind} migration needs the guest's disk on ${expected} storage, not ${guest.launch.storage}`);
    await this.startSide(this.vm(guest), 'destination', true, plan.kind === 'storage');
  }

  agentEndpoint(guest: GuestHandle, side: Side): AgentEndpoint | null {
    const entry = this.vms.get(guest.vmId)?.sides[side];
    if (!entry) return null;
    return { side, runner: entry.host.runner, socketPath: vmPaths(entry.dir).agent, toolPath: entry.toolPath };
  }

  /** Runs a raw QMP command on one side (diagnostics and transcript recording). */
  async execute(guest: GuestHandle, side: Side, command: string, args?: Record<string, unknown>): Promise<unknown> {
    const qmp = this.vm(guest).sides[side]?.qmp;
    if (!qmp) throw new MigbenchError('MB_GUEST', `guest ${guest.vmId} has no QMP connection on the ${side}`);
    return qmp.execute(command, args);
  }

  async pause(guest: GuestHandle, durationMs: number): Promise<{ stoppedAtMs: number; resumedAtMs: number }> {
    const qmp = this.vm(guest).sides[guest.location]?.qmp;
    if (!qmp) throw new MigbenchError('MB_GUEST', `guest ${guest.vmId} has no QMP connection on the ${guest.location}`);
    const since = epochMs();
    await qmp.execute('stop');
    const stop = await qmp.waitForEvent('STOP', 5000, (e) => e.epochMs >= since - 1);
    await sleep(Math.max(0, durationMs - (epochMs() - stop.epochMs)));
    await qmp.execute('cont');
    const resume = await qmp.waitForEvent('RESUME', 5000, (e) => e.epochMs >= stop.epochMs);
    return { stoppedAtMs: stop.epochMs, resumedAtMs: resume.epochMs };
  }

  async inspect(guest: GuestHandle): Promise<GuestInspection> {
    const vm = this.vm(guest);
    const entry = vm.sides[guest.location];
    let status = 'unknown';
    const qmp = entry ? await this.qmpOf(entry, guest.location).catch(() => null) : null;
    if (qmp) {
      const reply = (await qmp.execute('query-status').catch(() => null)) as { status?: string } | null;
      status = reply?.status ?? 'unknown';
    } else if (entry) {
      status = entry.pid !== null && (await processAlive(entry.host.runner, entry.pid)) ? 'unreachable' : 'exited';
    }
    const events =
      vm.migrationStartedAtMs === null
        ? []
        : collectEvents(
            vm.migrationStartedAtMs,
            { source: vm.sides.source?.qmp?.events ?? [], destination: vm.sides.destination?.qmp?.events ?? [] },
            vm.eventsSinceMs ?? vm.migrationStartedAtMs,
          );
    return { status, running: status === 'running', panicked: status === 'guest-panicked' || events.some((e) => e.name === 'GUEST_PANICKED' && e.side === guest.location), events };
  }

  async diagnostics(guest: GuestHandle, side: Side): Promise<string> {
    const entry = this.vms.get(guest.vmId)?.sides[side];
    if (!entry) return '';
    const [console, log] = [await this.tail(entry, vmPaths(entry.dir).console), await this.tail(entry, vmPaths(entry.dir).log)];
    return [console && `console:\n${console}`, log && `qemu log:\n${log}`].filter(Boolean).join('\n');
  }

  async migrate(guest: GuestHandle, plan: MigrationSpec, hooks: MigrationHooks = {}): Promise<MigrationOutcome> {
    const vm = this.vm(guest);
    const src = vm.sides.source;
    const dst = vm.sides.destination;
    if (!src?.qmp || !dst?.qmp) throw new MigbenchError('MB_MIGRATION', 'migrate called before both QEMUs were started');
    const srcQmp = src.qmp;
    let dstQmp = dst.qmp;
    const storage = plan.kind === 'storage';
    if (storage && !src.diskPath) throw new MigbenchError('MB_MIGRATION', 'a storage migration needs a guest with a disk (guest.diskMiB)');
    const { parameters, capabilities } = await this.configure(srcQmp, dstQmp, plan);
    const { uri, nbdPort } = await this.openStreams(dst, dstQmp, storage, hooks);

    const timeline: ProgressSample[] = [];
    const deadline = epochMs() + plan.timeoutMs;
    let mirror: Mirror | null = null;
    if (storage) {
      mirror = await this.mirrorDisk(srcQmp, dst.host.migrationAddress, nbdPort!, deadline);
      if (mirror.readyAtMs === null) return this.mirrorNotReady(vm, plan, { src, srcQmp, dstQmp, mirror }, { parameters, capabilities });
    }

    const startedAtMs = epochMs();
    vm.migrationStartedAtMs = startedAtMs;
    vm.eventsSinceMs = mirror?.startedAtMs ?? startedAtMs;
    await srcQmp.execute('migrate', { uri });
    const poll = await this.pollMigration(src, srcQmp, plan, { startedAtMs, deadline, timeline });
    const status = poll.final?.status === 'completed' ? 'completed' : poll.final?.status === 'cancelled' ? 'cancelled' : 'failed';
    // Whatever dropped the source's monitor may have dropped the destination's too.
    dstQmp = await this.qmpOf(dst, 'destination').catch(() => dstQmp);
    const settled = mirror ? await this.settleMirror(mirror, status, poll.srcQmp, dstQmp) : null;
    const endedAtMs = epochMs();

    let resume: QmpEvent | null = null;
    if (status === 'completed' && !settled?.error) {
      vm.handle.location = 'destination';
      resume = await dstQmp.waitForEvent('RESUME', 10_000).catch(() => null);
    }
    const stop = poll.srcQmp.events.find((e) => e.event === 'STOP' && e.epochMs >= startedAtMs - 1);
    const figures = toFigures(poll.final, status, { startedAtMs, timeline, mirror, storage: settled?.storage ?? null, stop, resume });
    const events = collectEvents(startedAtMs, { source: poll.srcQmp.events, destination: dstQmp.events }, vm.eventsSinceMs);
    const error = await this.migrationError(poll, status, settled?.error, { plan, src, dst });
    const finalStatus = settled?.error ? 'failed' : poll.timedOut && status !== 'completed' ? 'cancelled' : status;
    return { status: finalStatus, error, startedAtMs, endedAtMs, storage: settled?.storage ?? null, figures, timeline, events, parameters, capabilities };
  }

  /** Capabilities on both sides, parameters on the source (multifd's channel count on both), and what QEMU then says is in force. */
  private async configure(srcQmp: QmpClient, dstQmp: QmpClient, plan: MigrationSpec): Promise<Pick<MigrationOutcome, 'parameters' | 'capabilities'>> {
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
  private async openStreams(dst: VmSide, dstQmp: QmpClient, storage: boolean, hooks: MigrationHooks): Promise<{ uri: string; nbdPort: number | undefined }> {
    const uri = await this.listen(dstQmp, dst.host.migrationAddress);
    const ramPort = Number(uri.slice(uri.lastIndexOf(':') + 1));
    const nbdPort = storage ? await this.exportDisk(dstQmp, dst.host.migrationAddress) : undefined;
    await hooks.beforeTransfer?.({ ram: ramPort, ...(nbdPort !== undefined && { disk: nbdPort }) });
    return { uri, nbdPort };
  }

  /** The disk mirror failed or was not ready by the deadline: the guest never stopped and keeps running on the source with its own disk. */
  private async mirrorNotReady(
    vm: QemuVm,
    plan: MigrationSpec,
    on: { src: VmSide; srcQmp: QmpClient; dstQmp: QmpClient; mirror: Mirror },
    set: Pick<MigrationOutcome, 'parameters' | 'capabilities'>,
  ): Promise<MigrationOutcome> {
    const { src, srcQmp, dstQmp, mirror } = on;
    const startedAtMs = epochMs();
    vm.migrationStartedAtMs = startedAtMs;
    vm.eventsSinceMs = mirror.startedAtMs;
    const job = await this.abandonMirror(srcQmp);
    await this.stopExport(dstQmp);
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
  private async pollMigration(
    src: VmSide,
    srcQmp: QmpClient,
    plan: MigrationSpec,
    at: { startedAtMs: number; deadline: number; timeline: ProgressSample[] },
  ): Promise<MigrationPoll> {
    const poll: MigrationPoll = { srcQmp, final: null, timedOut: false, pollError: undefined, reconnects: 0 };
    try {
      await this.pollUntilEnded(src, poll, plan, at);
    } catch (error) {
      poll.pollError = error;
    }
    return poll;
  }

  private async pollUntilEnded(src: VmSide, poll: MigrationPoll, plan: MigrationSpec, at: { startedAtMs: number; deadline: number; timeline: ProgressSample[] }): Promise<void> {
    const { startedAtMs, deadline, timeline } = at;
    let postcopyStarted = false;
    const pollMs = this.options.pollIntervalMs ?? 50;
    for (;;) {
      const progress = parseQueryMigrate(await this.queryMigrate(src, poll));
      const now = epochMs();
      timeline.push(toProgressSample(progress, now - startedAtMs));
      if (TERMINAL_STATUSES.has(progress.status)) {
        poll.final = progress.status === 'completed' ? await this.settledCompletion(poll.srcQmp, progress) : progress;
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
  private async queryMigrate(src: VmSide, poll: MigrationPoll): Promise<unknown> {
    for (;;) {
      try {
        return await poll.srcQmp.execute('query-migrate');
      } catch (error) {
        if (!(error instanceof QmpError && error.code === 'MB_QMP_CLOSED') || ++poll.reconnects > 3) throw error;
        poll.srcQmp = await this.qmpOf(src, 'source');
      }
    }
  }

  /** Ends the disk mirror: brought in sync and the destination resumed if the memory migration completed, abandoned if not. */
  private async settleMirror(mirror: Mirror, status: MigrationOutcome['status'], srcQmp: QmpClient, dstQmp: QmpClient): Promise<{ storage: StorageOutcome; error: unknown }> {
    let job: ReturnType<typeof parseBlockJob> | null = null;
    let cancelMs: number | null = null;
    let error: unknown;
    try {
      if (status === 'completed') {
        // A ready mirror that is cancelled copies what is still dirty, then finishes with
        // the source keeping its disk; the destination stays paused until then.
        const cancelStarted = epochMs();
        job = await this.finishMirror(srcQmp);
        cancelMs = Math.round((epochMs() - cancelStarted) * 1000) / 1000;
        await dstQmp.execute('cont');
      } else {
        job = await this.abandonMirror(srcQmp);
      }
      await srcQmp.execute('blockdev-del', { 'node-name': NBD_TARGET_NODE }).catch(() => undefined);
      await this.stopExport(dstQmp);
    } catch (caught) {
      error = caught;
    }
    return {
      storage: { mirrorStartedAtMs: mirror.startedAtMs, mirrorReadyAtMs: mirror.readyAtMs, jobLenBytes: job?.lenBytes ?? null, jobOffsetBytes: job?.offsetBytes ?? null, cancelMs },
      error,
    };
  }

  /** Why the migration did not complete, first cause first; null when it did. */
  private async migrationError(
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
      const dstLog = await this.tail(dst, vmPaths(dst.dir).log, 5);
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

  /** NBD server on the destination's migration address, exporting its (empty) disk writable. */
  private async exportDisk(dstQmp: QmpClient, address: string): Promise<number> {
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
  private async mirrorDisk(srcQmp: QmpClient, address: string, port: number, deadlineMs: number): Promise<Mirror> {
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
  private async finishMirror(srcQmp: QmpClient): Promise<ReturnType<typeof parseBlockJob>> {
    const since = epochMs();
    await srcQmp.execute('block-job-cancel', { device: MIRROR_JOB });
    const done = await srcQmp.waitForEvent('BLOCK_JOB_COMPLETED', 60_000, (e) => e.epochMs >= since - 1 && parseBlockJob(e.data).jobId === MIRROR_JOB);
    const job = parseBlockJob(done.data);
    if (job.error) throw new MigbenchError('MB_MIGRATION', `disk mirror ended with an error: ${job.error}`);
    return job;
  }

  /** Stops a mirror without syncing (the migration did not complete); the source keeps its disk. */
  private async abandonMirror(srcQmp: QmpClient): Promise<ReturnType<typeof parseBlockJob> | null> {
    const since = epochMs();
    const before = parseBlockJob(((await srcQmp.execute('query-block-jobs').catch(() => [])) as unknown[]).find((j) => parseBlockJob(j).jobId === MIRROR_JOB));
    await srcQmp.execute('block-job-cancel', { device: MIRROR_JOB, force: true }).catch(() => undefined);
    const done = await srcQmp
      .waitForEvent('BLOCK_JOB_CANCELLED', 30_000, (e) => e.epochMs >= since - 1 && parseBlockJob(e.data).jobId === MIRROR_JOB)
      .catch(() => srcQmp.events.find((e) => e.event.startsWith('BLOCK_JOB_') && e.epochMs >= since - 1 && parseBlockJob(e.data).jobId === MIRROR_JOB) ?? null);
    await srcQmp.execute('blockdev-del', { 'node-name': NBD_TARGET_NODE }).catch(() => undefined);
    return done ? parseBlockJob(done.data) : before.jobId ? before : null;
  }

  private async stopExport(dstQmp: QmpClient): Promise<void> {
    if (dstQmp.closed) return;
    await dstQmp.execute('nbd-server-stop').catch(() => undefined);
  }

  /**
   * QEMU 7.2 sets the state to completed before it computes total-time and downtime
   * (migration_calculate_complete runs after), so a poll can see "completed" with both 0.
   * A completed migration never takes 0 ms: ask again until the figures are in.
   */
  private async settledCompletion(qmp: QmpClient, first: MigrationProgress): Promise<MigrationProgress> {
    let progress = first;
    for (let attempt = 0; attempt < 100 && !progress.totalTimeMs; attempt++) {
      await sleep(10);
      progress = parseQueryMigrate(await qmp.execute('query-migrate'));
    }
    return progress;
  }

  /** Starts the destination listening on a free port of its migration address. */
  private async listen(dstQmp: QmpClient, address: string): Promise<string> {
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

  async destroyGuest(guest: GuestHandle): Promise<void> {
    const vm = this.vms.get(guest.vmId);
    if (!vm) return;
    this.vms.delete(guest.vmId);
    const shared = vm.handle.launch.storage === 'shared' ? vm.sides.source : undefined;
    const sides: Array<readonly [string, () => Promise<unknown>]> = [];
    for (const side of ['destination', 'source'] as const) {
      const entry = vm.sides[side];
      if (!entry) continue;
      const steps: Array<readonly [string, () => Promise<unknown>]> = [[`stop ${side} QEMU of ${guest.vmId}`, () => this.stopSide(entry, side)]];
      // The shared disk goes once the QEMU that last had it open is gone.
      if (side === 'source' && shared?.diskPath)
        steps.push([`remove the shared disk of ${guest.vmId}`, () => shared.host.runner.run(['rm', '-f', shared.diskPath!], { idempotent: true })]);
      sides.push([`tear down the ${side} of ${guest.vmId}`, () => runCleanups(steps)]);
    }
    // The two sides are two hosts: tearing them down one after the other only adds time.
    await runCleanups(sides, undefined, { concurrently: true });
  }

  private async stopSide(entry: VmSide, side: Side): Promise<void> {
    const { runner } = entry.host;
    const qmp = entry.pid !== null ? await this.qmpOf(entry, side).catch(() => null) : entry.qmp;
    if (qmp && !qmp.closed) {
      await qmp.execute('quit', undefined, { timeoutMs: 3000 }).catch(() => undefined);
      qmp.close();
    }
    if (entry.pid !== null && !(await waitForExit(runner, entry.pid, 5000))) {
      await runner.run(['kill', '-KILL', String(entry.pid)], { check: false });
      if (!(await waitForExit(runner, entry.pid, 5000))) throw new MigbenchError('MB_GUEST', `${runner.host}: QEMU ${entry.pid} does not exit`);
    }
    // Teardown steps that do no harm twice: a connection lost under one runs it again.
    await runner.run(['ip', 'link', 'del', entry.tap], { check: false, idempotent: true });
    await runner.run(['rm', '-rf', entry.dir], { idempotent: true });
  }

  async close(): Promise<void> {
    const cleanups = [...this.vms.values()].map((vm) => [`destroy ${vm.handle.vmId}`, () => this.destroyGuest(vm.handle)] as const);
    await runCleanups(cleanups);
  }
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

/** The hypervisor's figures of a migration: QEMU's own, the peak dirty rate polled, STOP to RESUME across the hosts, the mirror's. */
function toFigures(
  final: MigrationProgress | null,
  status: MigrationOutcome['status'],
  seen: { startedAtMs: number; timeline: readonly ProgressSample[]; mirror: Mirror | null; storage: StorageOutcome | null; stop: QmpEvent | undefined; resume: QmpEvent | null },
): HypervisorFigures {
  const { startedAtMs, timeline, mirror, storage, stop, resume } = seen;
  const mirrorLeadMs = mirror ? startedAtMs - mirror.startedAtMs : 0;
  return {
    totalTimeMs: final?.totalTimeMs ? Math.round((final.totalTimeMs + mirrorLeadMs) * 1000) / 1000 : null,
    downtimeMs: status === 'completed' ? (final?.downtimeMs ?? null) : null,
    setupTimeMs: final?.setupTimeMs ?? null,
    transferredBytes: final?.transferredBytes ?? null,
    iterations: final?.iteration ?? null,
    dirtyRatePagesPerSec: peak(timeline, 'dirtyRatePagesPerSec'),
    stopToResumeMs: stop && resume ? Math.round((resume.epochMs - stop.epochMs) * 1000) / 1000 : null,
    mirrorTimeMs: mirror?.readyAtMs ? Math.round((mirror.readyAtMs - mirror.startedAtMs) * 1000) / 1000 : null,
    diskBytes: storage?.jobOffsetBytes ?? null,
  };
}

/** Events since `sinceMs`, timed from `originMs` (the migrate command; earlier ones are negative). */
function collectEvents(originMs: number, bySide: Record<Side, readonly QmpEvent[]>, sinceMs = originMs): HypervisorEvent[] {
  const out: HypervisorEvent[] = [];
  for (const side of ['source', 'destination'] as const) {
    for (const e of bySide[side]) {
      if (e.epochMs < sinceMs - 1) continue;
      const detail =
        e.event === 'MIGRATION'
          ? e.data.status
          : e.event === 'MIGRATION_PASS'
            ? e.data.pass
            : e.event === 'GUEST_PANICKED'
              ? JSON.stringify(e.data.info ?? e.data.action ?? '')
              : undefined;
      out.push({ side, name: e.event, tMs: Math.round((e.epochMs - originMs) * 1000) / 1000, ...(detail !== undefined && { detail: String(detail) }) });
    }
  }
  return out.sort((a, b) => a.tMs - b.tMs);
}
