// The QEMU driver: QEMU processes on two hosts, driven over QMP, reached through the
// hosts' command runners (SSH for remote hosts, the QMP socket forwarded over it).
// This file starts, inspects and destroys guests; the migration is migration.ts, the disk
// mirror of a storage migration mirror.ts, and the QMP connections monitor.ts.
import { MigbenchError, runCleanups } from '../../model/errors.js';
import type { HostEnvironment } from '../../generated/results.js';
import { describeHost, guestImageSetting, installGuestFiles, processAlive, readFileTail, type LocalFile } from '../../exec/host.js';
import { GUEST_CONSOLE_BYTES } from '../hypervisor.js';
import type { AgentEndpoint, GuestHandle, GuestInspection, GuestLaunch, Hypervisor, MigrationHooks, MigrationOutcome, TargetHost } from '../hypervisor.js';
import type { MigrationSpec } from '../../model/scenario.js';
import type { GuestImage } from '../../setup/image.js';
import { chooseAccel } from './accel.js';
import { qemuArgv, vmPaths, type Accel } from './cmdline.js';
import { prepareSide, stopSide } from './lifecycle.js';
import { migrateVm } from './migration.js';
import { QmpMonitors, type QmpTranscript } from './monitor.js';
import { collectEvents } from './outcome.js';
import { tail, type HostSetup, type QemuVm, type VmSide } from './vm.js';
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
  readonly transcript?: QmpTranscript;
  /** How often query-migrate is polled. @default 50 */
  readonly pollIntervalMs?: number;
  /** Pad guest RAM under TCG on QEMU < 9.0 (see needsTcgDirtyBitmapWorkaround). @default true */
  readonly tcgDirtyBitmapWorkaround?: boolean;
  /** A folder both hosts see at this path: memory migration keeps the guest's disk there. */
  readonly sharedStorageDir?: string;
  /** More QEMU options for both sides (qemu.extraArgs, allow-listed). */
  readonly extraArgs?: readonly string[];
}

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

/** What a driver shares with its reversed self (ping-pong): the hosts' set-ups, the guests and their monitors. */
interface DriverState {
  readonly setups: Map<TargetHost, Promise<HostSetup>>;
  readonly vms: Map<string, QemuVm>;
  readonly monitors: QmpMonitors;
  readonly reversed: QemuHypervisor;
}

export class QemuHypervisor implements Hypervisor {
  readonly kind = 'qemu' as const;
  private readonly binary: string;
  private readonly machine: string;
  private readonly setups: Map<TargetHost, Promise<HostSetup>>;
  private readonly vms: Map<string, QemuVm>;
  private readonly monitors: QmpMonitors;
  /** This driver with source and destination swapped, made on the first turn-around. */
  private reversed: QemuHypervisor | undefined;

  constructor(
    private readonly options: QemuDriverOptions,
    shared?: DriverState,
  ) {
    this.binary = options.binary ?? 'qemu-system-x86_64';
    this.machine = options.machine ?? 'q35';
    this.setups = shared?.setups ?? new Map();
    this.vms = shared?.vms ?? new Map();
    this.monitors = shared?.monitors ?? new QmpMonitors(options.transcript);
    this.reversed = shared?.reversed;
  }

  private host(side: Side): TargetHost {
    return side === 'source' ? this.options.source : this.options.destination;
  }

  /** Guest image and migbench-probe on the host, and its accelerator; once per host. */
  private setup(side: Side): Promise<HostSetup> {
    const host = this.host(side);
    let setup = this.setups.get(host);
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
      setup.catch(() => this.setups.delete(host));
      this.setups.set(host, setup);
    }
    return setup;
  }

  async describe(): Promise<{ source: HostEnvironment; destination: HostEnvironment }> {
    const describeSide = async (side: Side) => {
      const s = await this.setup(side);
      return describeHost(this.host(side).runner, s.version, s.accel.accel, s.accel.reason, {
        migrationInterface: this.host(side).migrationInterface,
        known: guestImageSetting(this.options.image),
      });
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
    const otherSetup = this.setups.get(this.host(other));
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
    await prepareSide(entry, side, launch);
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
      ...(this.options.extraArgs && { extraArgs: this.options.extraArgs }),
    });
    const paths = vmPaths(entry.dir);
    // taskset execs QEMU, so the pid the daemon reports is still QEMU's.
    const pinned = host.cpus ? ['taskset', '-c', host.cpus, ...argv] : argv;
    const started = await runner.run([setup.toolPath, 'daemon', '-o', paths.log, '--', ...pinned], { timeoutMs: 30_000 });
    entry.pid = Number(started.stdout.trim());
    entry.qmp = await this.monitors.connect(entry, side, 15_000);
    return entry;
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

  async setPaused(guest: GuestHandle, paused: boolean): Promise<void> {
    const qmp = this.vm(guest).sides[guest.location]?.qmp;
    if (!qmp) throw new MigbenchError('MB_GUEST', `guest ${guest.vmId} has no QMP connection on the ${guest.location}`);
    await qmp.execute(paused ? 'stop' : 'cont');
  }

  async inspect(guest: GuestHandle): Promise<GuestInspection> {
    const vm = this.vm(guest);
    const entry = vm.sides[guest.location];
    let status = 'unknown';
    const qmp = entry ? await this.monitors.of(entry, guest.location).catch(() => null) : null;
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
    const [console, log] = [await tail(entry, vmPaths(entry.dir).console), await tail(entry, vmPaths(entry.dir).log)];
    return [console && `console:\n${console}`, log && `qemu log:\n${log}`].filter(Boolean).join('\n');
  }

  async guestConsole(guest: GuestHandle, side: Side): Promise<string> {
    const entry = this.vms.get(guest.vmId)?.sides[side];
    return entry ? readFileTail(entry.host.runner, vmPaths(entry.dir).console, { bytes: GUEST_CONSOLE_BYTES }) : '';
  }

  async migrate(guest: GuestHandle, plan: MigrationSpec, hooks: MigrationHooks = {}): Promise<MigrationOutcome> {
    return migrateVm({ monitors: this.monitors, pollIntervalMs: this.options.pollIntervalMs }, this.vm(guest), plan, hooks);
  }

  /**
   * The guest's QEMU on the destination becomes the source of the reversed driver; the
   * old source's QEMU (paused since the switchover) is quit and its folder removed. A
   * shared disk stays: the running QEMU has it open.
   */
  async turnAround(guest: GuestHandle): Promise<{ hypervisor: QemuHypervisor; guest: GuestHandle }> {
    const vm = this.vm(guest);
    const { source, destination } = vm.sides;
    if (guest.location !== 'destination' || !destination)
      throw new MigbenchError('MB_GUEST', `guest ${guest.vmId} is not on the destination (${guest.location}): only a migrated guest turns around`);
    if (source) await stopSide(this.monitors, source, 'source');
    const handle: GuestHandle = { ...guest, location: 'source' };
    vm.handle = handle;
    vm.sides.source = destination;
    delete vm.sides.destination;
    vm.migrationStartedAtMs = null;
    vm.eventsSinceMs = null;
    return { hypervisor: this.reverse(), guest: handle };
  }

  private reverse(): QemuHypervisor {
    this.reversed ??= new QemuHypervisor(
      { ...this.options, source: this.options.destination, destination: this.options.source },
      { setups: this.setups, vms: this.vms, monitors: this.monitors, reversed: this },
    );
    return this.reversed;
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
      const steps: Array<readonly [string, () => Promise<unknown>]> = [[`stop ${side} QEMU of ${guest.vmId}`, () => stopSide(this.monitors, entry, side)]];
      // The shared disk goes once the QEMU that last had it open is gone.
      if (side === 'source' && shared?.diskPath)
        steps.push([`remove the shared disk of ${guest.vmId}`, () => shared.host.runner.run(['rm', '-f', shared.diskPath!], { idempotent: true })]);
      sides.push([`tear down the ${side} of ${guest.vmId}`, () => runCleanups(steps)]);
    }
    // The two sides are two hosts: tearing them down one after the other only adds time.
    await runCleanups(sides, undefined, { concurrently: true });
  }

  async close(): Promise<void> {
    const cleanups = [...this.vms.values()].map((vm) => [`destroy ${vm.handle.vmId}`, () => this.destroyGuest(vm.handle)] as const);
    await runCleanups(cleanups);
  }
}
