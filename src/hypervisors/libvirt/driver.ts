// The libvirt driver: what an administrator's `virsh migrate --live` does, run over the
// hosts' command runners (virsh on each host, as on a real KVM host). libvirt starts the
// destination QEMU itself, copies disks over NBD for --copy-storage-all and reports its
// own statistics; migbench adds the same probes as for QEMU-direct, so the two can be
// compared on the same guest.
import { randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { MigbenchError, runCleanups } from '../../model/errors.js';
import type { HostEnvironment, HypervisorEvent, MigrationParameters, ProgressSample } from '../../generated/results.js';
import { describeHost, guestImageSetting, installGuestFiles, readFileTail, readTail, type LocalFile } from '../../exec/host.js';
import { GUEST_CONSOLE_BYTES } from '../hypervisor.js';
import type { AgentEndpoint, GuestHandle, GuestInspection, GuestLaunch, Hypervisor, HypervisorFigures, MigrationHooks, MigrationOutcome, TargetHost } from '../hypervisor.js';
import { peak } from '../progress.js';
import { chooseAccel, type AccelChoice } from '../qemu/accel.js';
import type { Accel } from '../qemu/cmdline.js';
import type { CommandResult, CommandRunner, RunningCommand } from '../../exec/runner.js';
import type { MigrationSpec } from '../../model/scenario.js';
import type { GuestImage } from '../../setup/image.js';
import { domainName, domainXml } from './domain.js';
import { parseDomainFragment } from '../../model/tuning.js';
import {
  jobType,
  parseDomState,
  parseQemuMonitorEvent,
  parseRawJobStats,
  parseVirshVersion,
  toFigures,
  toProgress,
  VirshEventReader,
  virshError,
  type JobStats,
  type QmpEventLine,
} from './translate.js';
import { epochMs, sleep } from '../../model/time.js';
import type { Side } from '../../model/side.js';

export type LibvirtMigrationMode = 'p2p' | 'managed-direct';

export interface LibvirtDriverOptions {
  readonly source: TargetHost;
  readonly destination: TargetHost;
  readonly image: GuestImage;
  readonly probeTool: LocalFile;
  /** @default /usr/bin/qemu-system-x86_64 */
  readonly emulator?: string;
  /** @default q35 */
  readonly machine?: string;
  /** @default auto */
  readonly accel?: 'auto' | Accel;
  /**
   * p2p: the source libvirtd drives the migration (virsh --p2p); managed-direct: virsh,
   * run on the source host, drives both daemons. @default p2p
   */
  readonly mode?: LibvirtMigrationMode;
  /** How the source reaches the destination's libvirtd. @default qemu+tcp://MIGRATION_ADDRESS/system */
  readonly destinationUri?: string;
  /** A folder both hosts see at this path: memory migration keeps the guest's disk there. */
  readonly sharedStorageDir?: string;
  /** Each host's own image folder (storage migration). @default /var/lib/libvirt/images/migbench */
  /** Domain-level elements to add or replace (libvirt.domainXml), allow-listed. */
  readonly domainXml?: string;
  readonly imageDir?: string;
  /**
   * Pass --unsafe: libvirt only calls storage shared when it is on a filesystem it knows
   * as shared (NFS, GFS2, Ceph, ...); the lab's shared folder is a plain local one.
   */
  readonly unsafe?: boolean;
  /** @default true */
  readonly tcgDirtyBitmapWorkaround?: boolean;
  /** How often domjobinfo is polled during a migration. @default 250 */
  readonly pollIntervalMs?: number;
}

interface HostSetup {
  readonly kernelPath: string;
  readonly initrdPath: string;
  readonly toolPath: string;
  readonly accel: AccelChoice;
  readonly version: string;
  readonly qemuVersion: string;
}

interface LibvirtVm {
  /** Replaced when the guest turns around (ping-pong). */
  handle: GuestHandle;
  readonly name: string;
  readonly diskPath: string | null;
  /** Hosts the guest's disk image was created on (removed with the guest). */
  readonly diskOn: Set<TargetHost>;
  /** The domain XML migbench wrote, on the host the guest booted on. */
  readonly xml: { readonly host: TargetHost; readonly path: string };
  migrationStartedAtMs: number | null;
  events: HypervisorEvent[];
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;
const DEFAULT_IMAGE_DIR = '/var/lib/libvirt/images/migbench';
const CONSOLE_DIR = '/var/log/libvirt/qemu';
/**
 * Per host in libvirt's own state folder, so the two QEMUs of a migration never share a
 * socket. Not libvirt's channel/target folder: libvirt renames sockets there to
 * domain-ID-NAME/, and the destination's domain ID is not known before it starts.
 */
const CHANNEL_DIR = '/var/lib/libvirt/qemu/migbench-channels';

/** A long-running virsh whose lines are collected until it is stopped. */
class VirshWatch {
  readonly lines: string[] = [];
  private readonly command: RunningCommand;

  constructor(runner: CommandRunner, argv: readonly string[], onLine: (line: string) => void) {
    this.command = runner.spawn(argv);
    createInterface({ input: this.command.stdout }).on('line', (line) => {
      this.lines.push(line);
      onLine(line);
    });
    this.command.done.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.command.kill('SIGTERM');
    await Promise.race([this.command.done.catch(() => undefined), sleep(3000)]);
  }
}

/** What a driver shares with its reversed self (ping-pong): the hosts' set-ups and the guests. */
interface DriverState {
  readonly setups: Map<TargetHost, Promise<HostSetup>>;
  readonly toolPaths: Map<TargetHost, string>;
  readonly vms: Map<string, LibvirtVm>;
  readonly reversed: LibvirtHypervisor;
}

export class LibvirtHypervisor implements Hypervisor {
  readonly kind = 'libvirt' as const;
  private readonly setups: Map<TargetHost, Promise<HostSetup>>;
  private readonly toolPaths: Map<TargetHost, string>;
  private readonly vms: Map<string, LibvirtVm>;
  private readonly mode: LibvirtMigrationMode;
  private reversed: LibvirtHypervisor | undefined;
  /**
   * Ping-pong: the guest a completed migration left on the destination becomes the guest on
   * the source of the reversed driver (libvirt already removed it from the old source). Not
   * with a configured destinationUri: the way back would need the source's, which is not known.
   */
  readonly turnAround?: (guest: GuestHandle) => Promise<{ hypervisor: LibvirtHypervisor; guest: GuestHandle }>;

  constructor(
    private readonly options: LibvirtDriverOptions,
    shared?: DriverState,
  ) {
    this.mode = options.mode ?? 'p2p';
    this.setups = shared?.setups ?? new Map();
    this.toolPaths = shared?.toolPaths ?? new Map();
    this.vms = shared?.vms ?? new Map();
    this.reversed = shared?.reversed;
    if (!options.destinationUri) this.turnAround = (guest) => this.turnGuestAround(guest);
  }

  private async turnGuestAround(guest: GuestHandle): Promise<{ hypervisor: LibvirtHypervisor; guest: GuestHandle }> {
    const vm = this.vm(guest);
    if (guest.location !== 'destination')
      throw new MigbenchError('MB_GUEST', `guest ${guest.vmId} is not on the destination (${guest.location}): only a migrated guest turns around`);
    vm.handle = { ...guest, location: 'source' };
    vm.migrationStartedAtMs = null;
    vm.events = [];
    this.reversed ??= new LibvirtHypervisor(
      { ...this.options, source: this.options.destination, destination: this.options.source },
      { setups: this.setups, toolPaths: this.toolPaths, vms: this.vms, reversed: this },
    );
    return { hypervisor: this.reversed, guest: vm.handle };
  }

  async setPaused(guest: GuestHandle, paused: boolean): Promise<void> {
    await this.virsh(guest.location, [paused ? 'suspend' : 'resume', this.vm(guest).name]);
  }

  private host(side: Side): TargetHost {
    return side === 'source' ? this.options.source : this.options.destination;
  }

  /** Runs virsh on a host; a failure carries libvirt's own message, the host and the command. */
  private async virsh(side: Side, args: readonly string[], options: { timeoutMs?: number; check?: boolean; stdin?: string } = {}): Promise<CommandResult> {
    const { runner } = this.host(side);
    const argv = ['virsh', '-q', '-c', 'qemu:///system', ...args];
    const result = await runner.run(argv, { check: false, timeoutMs: options.timeoutMs ?? 60_000, ...(options.stdin !== undefined && { stdin: options.stdin }) });
    if (!result.ok && options.check !== false) {
      throw new MigbenchError('MB_LIBVIRT', `${runner.host}: virsh ${args[0]} failed: ${virshError(result.stderr)}`, { context: { host: runner.host, command: argv.join(' ') } });
    }
    return result;
  }

  private setup(side: Side): Promise<HostSetup> {
    const host = this.host(side);
    let setup = this.setups.get(host);
    if (!setup) {
      setup = (async () => {
        const { runner } = host;
        const { kernelPath, initrdPath, toolPath } = await installGuestFiles(runner, {
          kernel: this.options.image.kernel,
          initrd: this.options.image.initrd,
          probeTool: this.options.probeTool,
        });
        this.toolPaths.set(host, toolPath);
        const version = parseVirshVersion((await this.virsh(side, ['version'])).stdout);
        if (!version.libvirt) throw new MigbenchError('MB_LIBVIRT', `${runner.host}: cannot read libvirt's version from virsh version`, { context: { host: runner.host } });
        const accel = await chooseAccel(runner, { binary: this.emulator, machine: this.machine, kernelPath, requested: this.options.accel ?? 'auto' });
        return { kernelPath, initrdPath, toolPath, accel, version: version.text, qemuVersion: version.hypervisor ?? '' };
      })();
      setup.catch(() => this.setups.delete(host));
      this.setups.set(host, setup);
    }
    return setup;
  }

  private get emulator(): string {
    return this.options.emulator ?? '/usr/bin/qemu-system-x86_64';
  }

  private get machine(): string {
    return this.options.machine ?? 'q35';
  }

  async describe(): Promise<{ source: HostEnvironment; destination: HostEnvironment }> {
    const describeSide = async (side: Side) => {
      const s = await this.setup(side);
      return describeHost(this.host(side).runner, s.version, s.accel.accel, s.accel.reason, {
        migrationInterface: this.host(side).migrationInterface,
        files: { 'qemu.conf': '/etc/libvirt/qemu.conf' },
        known: guestImageSetting(this.options.image),
      });
    };
    return { source: await describeSide('source'), destination: await describeSide('destination') };
  }

  private vm(guest: GuestHandle): LibvirtVm {
    const vm = this.vms.get(guest.vmId);
    if (!vm) throw new MigbenchError('MB_GUEST', `unknown guest ${guest.vmId}`);
    return vm;
  }

  private diskPath(launch: GuestLaunch): string | null {
    if (launch.guest.diskMiB <= 0) return null;
    if (launch.storage === 'local') return `${this.options.imageDir ?? DEFAULT_IMAGE_DIR}/${launch.vmId}.qcow2`;
    if (!this.options.sharedStorageDir) {
      throw new MigbenchError(
        'MB_CONFIG_INVALID',
        `memory migration keeps the disk on storage both hosts see: set sharedStorageDir in the target (${this.host('source').runner.host})`,
        { userError: true },
      );
    }
    return `${this.options.sharedStorageDir}/${launch.vmId}.qcow2`;
  }

  private async createDisk(side: Side, path: string, sizeMiB: number): Promise<void> {
    const { runner } = this.host(side);
    await runner.run(['mkdir', '-p', path.slice(0, path.lastIndexOf('/')) || '/']);
    await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', path, `${sizeMiB}M`], { timeoutMs: 60_000 });
  }

  async startGuest(launch: GuestLaunch): Promise<GuestHandle> {
    if (!/^[a-z0-9]{4,12}$/.test(launch.vmId)) throw new MigbenchError('MB_GUEST', `bad VM id ${launch.vmId}`);
    const setup = await this.setup('source');
    // No RAM padding for QEMU < 9.0 under TCG (see the QEMU driver): libvirt rounds guest
    // RAM to whole MiB, a multiple of the 256 KiB the workaround must avoid. Dirty-memory
    // workloads can lose pages there; migbench's integrity check reports it.
    const handle: GuestHandle = { vmId: launch.vmId, launch, location: 'source', workarounds: [] };
    const name = domainName(launch.vmId);
    const source = this.host('source');
    const { runner, workDir, bridge } = source;
    const vm: LibvirtVm = {
      handle,
      name,
      diskPath: this.diskPath(launch),
      diskOn: new Set(),
      xml: { host: source, path: `${workDir}/vms/${name}.xml` },
      migrationStartedAtMs: null,
      events: [],
    };
    this.vms.set(launch.vmId, vm);
    if (vm.diskPath) {
      await this.createDisk('source', vm.diskPath, launch.guest.diskMiB);
      vm.diskOn.add(source);
    }
    const xml = domainXml(launch, {
      accel: setup.accel.accel,
      machine: this.machine,
      emulator: this.emulator,
      kernelPath: setup.kernelPath,
      initrdPath: setup.initrdPath,
      bridge,
      tap: `mbt${launch.vmId.slice(-6)}`,
      consolePath: `${CONSOLE_DIR}/${name}.console.log`,
      agentSocketPath: `${CHANNEL_DIR}/${name}.agent`,
      ...(vm.diskPath && { diskPath: vm.diskPath }),
      ...(this.options.domainXml && { extraElements: parseDomainFragment(this.options.domainXml) }),
    });
    for (const side of ['source', 'destination'] as const) await this.host(side).runner.run(['mkdir', '-p', CONSOLE_DIR, CHANNEL_DIR]);
    await runner.run(['mkdir', '-p', `${workDir}/vms`]);
    await runner.run(['cp', '/dev/stdin', vm.xml.path], { stdin: xml });
    // Transient: the domain is gone from a host once it leaves it or is destroyed.
    await this.virsh('source', ['create', vm.xml.path], { timeoutMs: 60_000 });
    return handle;
  }

  async prepareDestination(guest: GuestHandle, plan: MigrationSpec): Promise<void> {
    const vm = this.vm(guest);
    await this.setup('destination');
    const expected = plan.kind === 'storage' ? 'local' : 'shared';
    if (guest.launch.storage !== expected)
      throw new MigbenchError('MB_MIGRATION', `a ${plan.kind} migration needs the guest's disk on ${expected} storage, not ${guest.launch.storage}`);
    // --copy-storage-all copies into an image that must already exist on the destination.
    if (plan.kind === 'storage' && vm.diskPath) {
      await this.createDisk('destination', vm.diskPath, guest.launch.guest.diskMiB);
      vm.diskOn.add(this.host('destination'));
    }
  }

  /** The probe tool on a host, installed by its set-up (which every guest's launch awaits). */
  private hostToolPath(side: Side): string {
    const toolPath = this.toolPaths.get(this.host(side));
    if (!toolPath) throw new MigbenchError('MB_LIBVIRT', `${this.host(side).runner.host}: migbench-probe is not installed yet (the host's set-up did not run)`);
    return toolPath;
  }

  agentEndpoint(guest: GuestHandle, side: Side): AgentEndpoint | null {
    const vm = this.vms.get(guest.vmId);
    const toolPath = this.toolPaths.get(this.host(side));
    if (!vm || !toolPath) return null;
    return { side, runner: this.host(side).runner, socketPath: `${CHANNEL_DIR}/${vm.name}.agent`, toolPath, appearsDuringMigration: side === 'destination' };
  }

  private async migrationParameters(): Promise<MigrationParameters> {
    const parameters: MigrationParameters = {};
    const name = [...this.vms.values()].at(-1)?.name;
    if (!name) return parameters;
    const downtime = await this.virsh('source', ['migrate-getmaxdowntime', name], { check: false });
    if (downtime.ok && /^\d+$/.test(downtime.stdout.trim())) parameters.downtimeLimitMs = Number(downtime.stdout.trim());
    const speed = await this.virsh('source', ['migrate-getspeed', name], { check: false });
    if (speed.ok && /^\d+$/.test(speed.stdout.trim())) parameters.maxBandwidthMiBps = Number(speed.stdout.trim());
    return parameters;
  }

  /** The virsh migrate argv for a plan; the ports are chosen by the caller so flows can be counted. */
  migrateArgv(domain: string, plan: MigrationSpec, ports: { ram: number; disk?: number }): string[] {
    const dst = this.host('destination');
    const uri = this.options.destinationUri ?? `qemu+tcp://${dst.migrationAddress}/system`;
    const argv = ['migrate', '--live', ...(this.mode === 'p2p' ? ['--p2p'] : [])];
    if (plan.kind === 'storage') argv.push('--copy-storage-all', '--disks-port', String(ports.disk));
    else if (this.options.unsafe) argv.push('--unsafe');
    if (plan.autoConverge) argv.push('--auto-converge');
    if (plan.postcopyAfterMs !== undefined) argv.push('--postcopy');
    if (plan.multifdChannels !== undefined) argv.push('--parallel', '--parallel-connections', String(plan.multifdChannels));
    if (plan.xbzrleCacheMiB !== undefined) argv.push('--compressed', '--comp-methods', 'xbzrle', '--comp-xbzrle-cache', String(plan.xbzrleCacheMiB * 1024 * 1024));
    argv.push(domain, uri, `tcp://${dst.migrationAddress}:${ports.ram}`);
    return argv;
  }

  async migrate(guest: GuestHandle, plan: MigrationSpec, hooks: MigrationHooks = {}): Promise<MigrationOutcome> {
    const vm = this.vm(guest);
    if (plan.downtimeLimitMs !== undefined) await this.virsh('source', ['migrate-setmaxdowntime', vm.name, String(plan.downtimeLimitMs)]);
    // Set before migrating (not --bandwidth) so migrate-getspeed records what is in force.
    if (plan.maxBandwidthMiBps !== undefined) await this.virsh('source', ['migrate-setspeed', vm.name, String(plan.maxBandwidthMiBps)]);
    const parameters = await this.migrationParameters();
    const capabilities = [
      ...(plan.autoConverge ? ['auto-converge'] : []),
      ...(plan.postcopyAfterMs !== undefined ? ['postcopy-ram'] : []),
      ...(plan.multifdChannels !== undefined ? ['multifd'] : []),
      ...(plan.xbzrleCacheMiB !== undefined ? ['xbzrle'] : []),
      ...(plan.kind === 'storage' ? ['copy-storage-all'] : []),
    ];

    // What libvirt and QEMU say while it runs: QMP events with QEMU's own times, the
    // source's (mirror and STOP) and the destination's RESUME; libvirt's lifecycle and job
    // events on both hosts, which are timed when virsh reads them.
    const qmp: Record<Side, QmpEventLine[]> = { source: [], destination: [] };
    const qmpInto = (side: Side) => (line: string) => {
      const e = parseQemuMonitorEvent(line);
      if (e) qmp[side].push(e);
    };
    const srcEvents = new VirshEventReader();
    const dstEvents = new VirshEventReader();
    // Each under the probe tool's `watch`, which ends it when its channel closes: a virsh
    // --loop that has nothing more to say would otherwise run on the host for good.
    const watch = (side: Side, argv: readonly string[], onLine: (line: string) => void) =>
      new VirshWatch(this.host(side).runner, [this.hostToolPath(side), 'watch', '--', 'virsh', '-c', 'qemu:///system', ...argv], onLine);
    const watches = [
      watch('source', ['qemu-monitor-event', vm.name, '--loop'], qmpInto('source')),
      // Every domain: the incoming one does not exist until the migration defines it.
      watch('destination', ['qemu-monitor-event', '--event', 'RESUME', '--loop'], qmpInto('destination')),
      watch('source', ['event', '--all', '--loop', '--timestamp'], (l) => srcEvents.push(l)),
      watch('destination', ['event', '--all', '--loop', '--timestamp'], (l) => dstEvents.push(l)),
    ];
    try {
      // virsh registers for events after it connects; give it that long before migrating.
      await sleep(500);
      return await this.runMigration(vm, plan, hooks, { parameters, capabilities, qmp, srcEvents, dstEvents });
    } finally {
      await sleep(300);
      await Promise.all(watches.map((w) => w.stop()));
    }
  }

  private async runMigration(vm: LibvirtVm, plan: MigrationSpec, hooks: MigrationHooks, seen: Seen): Promise<MigrationOutcome> {
    const src = this.host('source');
    const timeline: ProgressSample[] = [];
    let lastError = '';
    for (let attempt = 0; attempt < 4; attempt++) {
      const ports = { ram: randomInt(49152, 60000), ...(plan.kind === 'storage' && { disk: randomInt(60000, 61000) }) };
      await hooks.beforeTransfer?.(ports);
      const startedAtMs = epochMs();
      vm.migrationStartedAtMs = startedAtMs;
      const migrating = this.virsh('source', this.migrateArgv(vm.name, plan, ports), { check: false, timeoutMs: plan.timeoutMs + 120_000 });
      const timedOut = await this.pollJob(vm, plan, { startedAtMs, migrating, timeline, onSample: hooks.onSample });
      const result = await migrating;
      const endedAtMs = epochMs();
      const message = result.ok ? '' : virshError(result.stderr);
      // The destination could not take the port libvirt was asked to use: try others.
      if (!result.ok && !timedOut && /Failed to reserve port|Address already in use/i.test(message) && attempt < 3) {
        lastError = message;
        timeline.length = 0;
        continue;
      }
      return this.outcome(vm, plan, { result, message, timedOut, startedAtMs, endedAtMs, timeline, ...seen });
    }
    throw new MigbenchError('MB_MIGRATION', `${src.runner.host}: no free migration port after 4 attempts: ${lastError}`, { context: { host: src.runner.host } });
  }

  /**
   * Samples domjobinfo until virsh migrate returns; starts postcopy when the plan says and
   * aborts the job at the deadline. Returns whether it aborted. Not the vendors' task poller
   * (poll.ts): the migration ends when the virsh migrate command does, not when a polled
   * state says so, a poll without a job records nothing, and the wait between polls ends
   * early when virsh returns.
   */
  private async pollJob(
    vm: LibvirtVm,
    plan: MigrationSpec,
    run: { startedAtMs: number; migrating: Promise<CommandResult>; timeline: ProgressSample[]; onSample: ((sample: ProgressSample) => void) | undefined },
  ): Promise<boolean> {
    const { startedAtMs, migrating, timeline, onSample } = run;
    const deadline = startedAtMs + plan.timeoutMs;
    let finished: CommandResult | null = null;
    void migrating.then(
      (r) => (finished = r),
      () => undefined,
    );
    let timedOut = false;
    let postcopyStarted = false;
    const pollMs = this.options.pollIntervalMs ?? 250;
    while (!finished) {
      const info = await this.virsh('source', ['domjobinfo', vm.name, '--rawstats'], { check: false, timeoutMs: 10_000 });
      const now = epochMs();
      if (finished) break;
      if (info.ok && jobType(info.stdout) !== 'none') {
        const sample = toProgress(parseRawJobStats(info.stdout), now - startedAtMs, postcopyStarted ? 'postcopy-active' : 'active');
        timeline.push(sample);
        onSample?.(sample);
      }
      if (plan.postcopyAfterMs !== undefined && !postcopyStarted && now - startedAtMs >= plan.postcopyAfterMs) {
        postcopyStarted = (await this.virsh('source', ['migrate-postcopy', vm.name], { check: false })).ok;
      }
      // Postcopy cannot be cancelled: the guest already runs on the destination.
      if (!timedOut && now > deadline && !postcopyStarted) {
        timedOut = true;
        await this.virsh('source', ['domjobabort', vm.name], { check: false });
      }
      await Promise.race([migrating, sleep(pollMs)]);
    }
    return timedOut;
  }

  private async outcome(vm: LibvirtVm, plan: MigrationSpec, r: Ran): Promise<MigrationOutcome> {
    const src = this.host('source');
    const status = r.result.ok ? 'completed' : r.timedOut || /cancel|abort/i.test(r.message) ? 'cancelled' : 'failed';
    if (status === 'completed') {
      vm.handle.location = 'destination';
      await lastEvents(vm, r);
    }
    const stats = await this.jobStats(vm, r, status);
    const mine = (e: QmpEventLine) => e.domain === vm.name;
    const qmp = { source: r.qmp.source.filter(mine), destination: r.qmp.destination.filter(mine) };
    const mirror = mirrorOf(qmp.source);
    const figures = toHypervisorFigures(r, status, stats, mirror, qmp);
    const events = collectEvents(vm, r, qmp);
    vm.events = events;
    let error: MigbenchError | null = null;
    if (status !== 'completed') {
      error = new MigbenchError(
        r.timedOut ? 'MB_TIMEOUT' : 'MB_MIGRATION',
        r.timedOut ? `migration did not complete within ${plan.timeoutMs} ms and was aborted (virsh domjobabort): ${r.message}` : `virsh migrate failed: ${r.message}`,
        { context: { host: src.runner.host, command: `virsh ${this.mode === 'p2p' ? 'migrate --p2p' : 'migrate'}` } },
      );
    }
    return {
      status,
      error,
      startedAtMs: r.startedAtMs,
      endedAtMs: r.endedAtMs,
      storage:
        plan.kind === 'storage'
          ? {
              mirrorStartedAtMs: mirror.created?.epochMs ?? r.startedAtMs,
              mirrorReadyAtMs: mirror.ready?.epochMs ?? null,
              jobLenBytes: mirror.jobNumber('len'),
              jobOffsetBytes: mirror.jobNumber('offset'),
              cancelMs: null,
            }
          : null,
      figures,
      timeline: r.timeline,
      events,
      parameters: r.parameters,
      capabilities: r.capabilities,
    };
  }

  /** The completed job's statistics: from the job-completed event, else from the incoming side, which keeps them too. */
  private async jobStats(vm: LibvirtVm, r: Ran, status: MigrationOutcome['status']): Promise<JobStats | undefined> {
    let stats = r.srcEvents.events.find((e) => e.domain === vm.name && e.kind === 'job-completed')?.stats;
    if (status === 'completed' && (!stats || !Object.keys(stats).length)) {
      const completed = await this.virsh('destination', ['domjobinfo', vm.name, '--completed', '--keep-completed', '--rawstats'], { check: false });
      if (completed.ok) stats = parseRawJobStats(completed.stdout);
    }
    return stats;
  }

  async inspect(guest: GuestHandle): Promise<GuestInspection> {
    const vm = this.vm(guest);
    const out = await this.virsh(guest.location, ['domstate', vm.name, '--reason'], { check: false });
    const state = out.ok ? parseDomState(out.stdout) : { state: 'exited', reason: null };
    // "running" whatever the reason (booted, migrated, unpaused); other states keep theirs.
    const status = state.state === 'running' || !state.reason ? state.state : `${state.state} (${state.reason})`;
    return { status, running: state.state === 'running', panicked: state.reason === 'panicked' || state.state === 'crashed', events: vm.events };
  }

  async diagnostics(guest: GuestHandle, side: Side): Promise<string> {
    const vm = this.vms.get(guest.vmId);
    if (!vm) return '';
    const { runner } = this.host(side);
    const tail = (file: string) => readTail(runner, file, { lines: 8 });
    const parts = [
      ['console', await tail(`${CONSOLE_DIR}/${vm.name}.console.log`)],
      ['qemu', await tail(`${CONSOLE_DIR}/${vm.name}.log`)],
    ].filter(([, text]) => text);
    return parts.map(([what, text]) => `${runner.host} ${what}: ${text!.replaceAll('\n', ' | ')}`).join('; ');
  }

  async guestConsole(guest: GuestHandle, side: Side): Promise<string> {
    const vm = this.vms.get(guest.vmId);
    return vm ? readFileTail(this.host(side).runner, `${CONSOLE_DIR}/${vm.name}.console.log`, { bytes: GUEST_CONSOLE_BYTES }) : '';
  }

  async destroyGuest(guest: GuestHandle): Promise<void> {
    const vm = this.vms.get(guest.vmId);
    if (!vm) return;
    this.vms.delete(guest.vmId);
    const cleanups: Array<readonly [string, () => Promise<unknown>]> = [];
    for (const side of ['destination', 'source'] as const) {
      cleanups.push([
        `destroy ${vm.name} on the ${side}`,
        async () => {
          const out = await this.virsh(side, ['destroy', vm.name], { check: false });
          if (!out.ok && !/failed to get domain|not found|not running/i.test(out.stderr))
            throw new MigbenchError('MB_GUEST', `${this.host(side).runner.host}: virsh destroy ${vm.name}: ${virshError(out.stderr)}`);
        },
      ]);
    }
    if (vm.diskPath) {
      for (const host of vm.diskOn) cleanups.push([`remove the disk of ${guest.vmId} on ${host.runner.host}`, () => host.runner.run(['rm', '-f', vm.diskPath!])]);
    }
    cleanups.push([`remove the domain XML of ${guest.vmId}`, () => vm.xml.host.runner.run(['rm', '-f', vm.xml.path])]);
    await runCleanups(cleanups);
  }

  async close(): Promise<void> {
    await runCleanups([...this.vms.values()].map((vm) => [`destroy ${vm.handle.vmId}`, () => this.destroyGuest(vm.handle)] as const));
  }
}

/** What was watched while the migration ran (see migrate). */
interface Seen {
  parameters: MigrationParameters;
  capabilities: string[];
  qmp: QmpBySide;
  srcEvents: VirshEventReader;
  dstEvents: VirshEventReader;
}

/** One virsh migrate run, as the outcome is made from it. */
interface Ran extends Seen {
  result: CommandResult;
  message: string;
  timedOut: boolean;
  startedAtMs: number;
  endedAtMs: number;
  timeline: ProgressSample[];
}

/** A completed migration's last events (job-completed on the source, RESUME and Resumed on the destination) may still be on their way: up to 3 s for them. */
async function lastEvents(vm: LibvirtVm, r: Ran): Promise<void> {
  const mine = (e: { domain: string }) => e.domain === vm.name;
  const found = () =>
    r.srcEvents.events.some((e) => mine(e) && e.kind === 'job-completed') &&
    r.dstEvents.events.some((e) => mine(e) && e.detail === 'Resumed Migrated') &&
    r.qmp.destination.some((e) => mine(e) && e.event === 'RESUME');
  const until = epochMs() + 3000;
  while (!found() && epochMs() < until) await sleep(50);
}

/** The storage migration's disk mirror, as the source QEMU's job events tell it. */
function mirrorOf(qmp: readonly QmpEventLine[]) {
  const mirrorJob = (e: QmpEventLine) => e.event === 'JOB_STATUS_CHANGE' && String(e.data.id ?? '').startsWith('drive-');
  const done = qmp.find((e) => e.event === 'BLOCK_JOB_COMPLETED');
  return {
    created: qmp.find((e) => mirrorJob(e) && e.data.status === 'created'),
    ready: qmp.find((e) => mirrorJob(e) && e.data.status === 'ready'),
    jobNumber: (key: string) => (typeof done?.data[key] === 'number' ? (done.data[key] as number) : null),
  };
}

/** One migration's QMP events, by the host whose QEMU sent them. */
type QmpBySide = Readonly<Record<Side, readonly QmpEventLine[]>>;

/** libvirt's own figures, completed by what QEMU's events show (STOP to RESUME, the mirror's times and bytes). */
function toHypervisorFigures(r: Ran, status: MigrationOutcome['status'], stats: JobStats | undefined, mirror: ReturnType<typeof mirrorOf>, qmp: QmpBySide): HypervisorFigures {
  const reported = toFigures(stats ?? {});
  // QEMU's own times on both hosts, as for the QEMU driver: libvirt's `downtime` is its daemons' clock.
  const stop = qmp.source.find((e) => e.event === 'STOP' && e.epochMs >= r.startedAtMs - 1);
  const resume = qmp.destination.find((e) => e.event === 'RESUME' && e.epochMs >= r.startedAtMs - 1);
  return {
    totalTimeMs: reported.totalTimeMs,
    downtimeMs: status === 'completed' ? reported.downtimeMs : null,
    downtimeNetMs: status === 'completed' ? reported.downtimeNetMs : null,
    setupTimeMs: reported.setupTimeMs,
    transferredBytes: reported.transferredBytes,
    iterations: reported.iterations,
    dirtyRatePagesPerSec: reported.dirtyRatePagesPerSec ?? peak(r.timeline, 'dirtyRatePagesPerSec'),
    stopToResumeMs: stop && resume ? round3(resume.epochMs - stop.epochMs) : null,
    mirrorTimeMs: mirror.created && mirror.ready ? round3(mirror.ready.epochMs - mirror.created.epochMs) : null,
    diskBytes: reported.diskBytes ?? mirror.jobNumber('offset'),
  };
}

/** Both QEMUs' events and both hosts' libvirt events, timed from the migrate command. */
function collectEvents(vm: LibvirtVm, r: Ran, qmp: QmpBySide): HypervisorEvent[] {
  const mine = (e: { domain: string }) => e.domain === vm.name;
  const fromQemu = (side: Side) => qmp[side].map((e) => ({ side, name: e.event, tMs: round3(e.epochMs - r.startedAtMs), ...qmpDetail(e) }));
  return [
    ...fromQemu('source'),
    ...fromQemu('destination'),
    ...r.srcEvents.events
      .filter((e) => mine(e) && e.kind !== 'job-completed')
      .map((e) => ({ side: 'source' as const, name: `libvirt:${e.kind}`, tMs: round3(e.epochMs - r.startedAtMs), detail: e.detail })),
    ...r.dstEvents.events.filter(mine).map((e) => ({ side: 'destination' as const, name: `libvirt:${e.kind}`, tMs: round3(e.epochMs - r.startedAtMs), detail: e.detail })),
  ].sort((a, b) => a.tMs - b.tMs);
}

function qmpDetail(e: QmpEventLine): { detail?: string } {
  if (e.event === 'MIGRATION' || e.event === 'JOB_STATUS_CHANGE') return { detail: String(e.data.status) };
  if (e.event === 'MIGRATION_PASS') return { detail: String(e.data.pass) };
  return {};
}
