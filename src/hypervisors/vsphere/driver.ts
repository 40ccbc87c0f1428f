// The VMware vSphere driver: vim25 through vCenter. Like XenServer, the guest is a VM the
// inventory already has; RelocateVM_Task to another host is vMotion (memory migration),
// with a datastore as well it is storage vMotion. vCenter reports the task's start and
// completion; the stun time is in the VM's vmware.log, which migbench reads over SSH on the
// ESXi host the VM runs on, and the bytes are the vmnic counters esxcli prints there.
import { displayArgv, MigbenchError } from '../../model/errors.js';
import type { HostEnvironment, HypervisorEvent, ProgressSample } from '../../generated/results.js';
import {
  NO_FIGURES,
  type AgentEndpoint,
  type GuestHandle,
  type GuestInspection,
  type GuestLaunch,
  type Hypervisor,
  type MigrationHooks,
  type MigrationOutcome,
  type TargetHost,
} from '../hypervisor.js';
import { pollTask, type PolledTask } from '../poll.js';
import { statusProgress } from '../progress.js';
import { assertOnSource, assertRunning, migrateHome, sourceGuest } from '../vendor.js';
import type { MigrationSpec } from '../../model/scenario.js';
import type { VsphereClient, MoRef, VsphereTaskInfo } from './client.js';
import { datastoreFile, datastoreName, nicStatsArgv, parseNicStats, parseStunMs } from './esxi.js';
import type { InterfaceCounters } from '../../probes/wire.js';
import { epochMs } from '../../model/time.js';
import type { Side } from '../../model/side.js';

export interface VsphereDriverOptions {
  readonly source: TargetHost;
  readonly destination: TargetHost;
  readonly client: VsphereClient;
  readonly user: string;
  /** Read when logging in; never stored in records or messages. */
  readonly password: () => Promise<string>;
  /** Inventory names. */
  readonly vm: string;
  readonly sourceHost: string;
  readonly destinationHost: string;
  /** Storage vMotion: the datastore to move to, and the one to return to afterwards. */
  readonly storage?: { readonly datastore: string; readonly sourceDatastore?: string };
  /** Read the stun time from the VM's vmware.log over SSH on the ESXi host. @default true */
  readonly readVmwareLog?: boolean;
  /** @default 250 */
  readonly pollIntervalMs?: number;
}

export class VsphereHypervisor implements Hypervisor {
  readonly kind = 'vsphere' as const;
  private loggedIn: Promise<void> | null = null;
  private lastKind: MigrationSpec['kind'] = 'memory';

  constructor(private readonly options: VsphereDriverOptions) {}

  private get client(): VsphereClient {
    return this.options.client;
  }

  private login(): Promise<void> {
    this.loggedIn ??= (async () => this.client.login(this.options.user, await this.options.password()))();
    this.loggedIn.catch(() => (this.loggedIn = null));
    return this.loggedIn;
  }

  private async find(type: 'VirtualMachine' | 'HostSystem' | 'Datastore', name: string): Promise<MoRef> {
    await this.login();
    const found = (await this.client.list(type)).filter((o) => o.name === name);
    if (found.length !== 1) {
      throw new MigbenchError('MB_VSPHERE', `${this.client.host}: ${found.length === 0 ? 'no' : found.length} ${type} named ${JSON.stringify(name)} in the inventory`, {
        userError: found.length === 0,
        context: { host: this.client.host },
      });
    }
    return found[0]!.ref;
  }

  private async vmState(): Promise<{ vm: MoRef; host: string | null; powerState: string }> {
    const vm = await this.find('VirtualMachine', this.options.vm);
    const [found] = await this.client.retrieve(vm, 'VirtualMachine', ['runtime.host', 'runtime.powerState']);
    const host = found?.props['runtime.host'] as { '#text'?: string } | undefined;
    return { vm, host: host?.['#text'] ?? null, powerState: String(found?.props['runtime.powerState'] ?? 'unknown') };
  }

  async describe(): Promise<{ source: HostEnvironment; destination: HostEnvironment }> {
    await this.login();
    const about = await this.client.about();
    const env = (side: Side): HostEnvironment => ({
      host: side === 'source' ? this.options.sourceHost : this.options.destinationHost,
      kernel: 'ESXi',
      cpuModel: 'unknown',
      cpuCount: 0,
      hypervisorVersion: `${about.fullName} (API ${about.apiVersion})`,
      accel: 'esxi',
    });
    return { source: env('source'), destination: env('destination') };
  }

  async startGuest(launch: GuestLaunch): Promise<GuestHandle> {
    const at = { endpoint: this.client.host, vm: this.options.vm, sourceHost: this.options.sourceHost };
    const state = await this.vmState();
    assertRunning(at, state.powerState, state.powerState === 'poweredOn', 'power it on');
    assertOnSource(at, state.host === (await this.find('HostSystem', this.options.sourceHost)).value);
    return sourceGuest(launch);
  }

  async prepareDestination(): Promise<void> {
    // vCenter prepares the destination host itself.
  }

  agentEndpoint(): AgentEndpoint | null {
    // Inventory VMs carry no migbench agent.
    return null;
  }

  async migrate(guest: GuestHandle, plan: MigrationSpec, hooks: MigrationHooks = {}): Promise<MigrationOutcome> {
    const outbound = guest.location === 'source';
    this.lastKind = plan.kind;
    const startedAtMs = epochMs();
    let task: MoRef;
    try {
      task = await this.relocate(outbound, plan);
    } catch (error) {
      return this.outcomeOf(startedAtMs, null, [], error instanceof MigbenchError ? error : new MigbenchError('MB_MIGRATION', String(error)));
    }
    const {
      final: info,
      cancelled,
      timeline,
    } = await pollTask(this.polledTask(task), {
      startedAtMs,
      timeoutMs: plan.timeoutMs,
      intervalMs: this.options.pollIntervalMs ?? 250,
      ...(hooks.onSample && { onSample: hooks.onSample }),
    });
    if (info.state === 'success') guest.location = outbound ? 'destination' : 'source';
    const error =
      info.state === 'success'
        ? null
        : new MigbenchError(
            cancelled ? 'MB_TIMEOUT' : 'MB_MIGRATION',
            cancelled
              ? `migration did not complete within ${plan.timeoutMs} ms and was cancelled (CancelTask): ${info.error ?? ''}`
              : `RelocateVM_Task failed: ${info.error ?? 'no error in the task info'}`,
            {
              context: { host: this.client.host, vim25Method: 'RelocateVM_Task' },
            },
          );
    const events: HypervisorEvent[] = [];
    const stunMs = info.state === 'success' && this.options.readVmwareLog !== false ? await this.stunMs(guest.location, info, startedAtMs, events) : null;
    return this.outcomeOf(startedAtMs, info, timeline, error, cancelled, plan.kind, stunMs, events);
  }

  /** RelocateVM_Task to the other host (and, for storage vMotion, the other datastore). */
  private async relocate(outbound: boolean, plan: MigrationSpec): Promise<MoRef> {
    const vm = await this.find('VirtualMachine', this.options.vm);
    const host = await this.find('HostSystem', outbound ? this.options.destinationHost : this.options.sourceHost);
    let datastore: MoRef | undefined;
    if (plan.kind === 'storage') {
      const name = outbound ? this.options.storage?.datastore : this.options.storage?.sourceDatastore;
      if (!name)
        throw new MigbenchError('MB_CONFIG_INVALID', `storage vMotion needs vsphere.storage.${outbound ? 'datastore' : 'sourceDatastore (to bring the VM back)'} in the target`, {
          userError: true,
        });
      datastore = await this.find('Datastore', name);
    }
    return this.client.relocate(vm, { host, ...(datastore && { datastore }) });
  }

  /** The vSphere task as the poller sees it; TaskInfo's fields are translated by toTaskInfo alone. */
  private polledTask(task: MoRef): PolledTask<VsphereTaskInfo> {
    return {
      read: () => this.client.taskInfo(task),
      progress: (info) => statusProgress(info.state),
      isTerminal: (info) => info.state === 'success' || info.state === 'error',
      cancel: () => this.client.cancelTask(task),
    };
  }

  /** The stun time from vmware.log where the VM runs now, or null with an event saying why it is missing. */
  private async stunMs(side: Side, info: VsphereTaskInfo, startedAtMs: number, events: HypervisorEvent[]): Promise<number | null> {
    try {
      // vCenter's and ESXi's clocks differ a little; a minute's slack keeps the stun in
      // and the previous migration (at least the unmeasured way back) out.
      return parseStunMs(await this.vmwareLog(side), (info.startedAtMs ?? startedAtMs) - 60_000);
    } catch (logError) {
      // The record keeps why the hypervisor's downtime is missing.
      events.push({ tMs: epochMs() - startedAtMs, side, name: 'VMWARE_LOG_UNREADABLE', detail: logError instanceof Error ? logError.message : String(logError) });
      return null;
    }
  }

  private outcomeOf(
    startedAtMs: number,
    info: VsphereTaskInfo | null,
    timeline: ProgressSample[],
    error: MigbenchError | null,
    cancelled = false,
    kind: MigrationSpec['kind'] = 'memory',
    stunMs: number | null = null,
    events: HypervisorEvent[] = [],
  ): MigrationOutcome {
    return {
      status: error === null ? 'completed' : cancelled ? 'cancelled' : 'failed',
      error,
      startedAtMs,
      endedAtMs: epochMs(),
      storage: null,
      figures: {
        ...NO_FIGURES,
        totalTimeMs: info?.startedAtMs != null && info.completedAtMs != null ? info.completedAtMs - info.startedAtMs : null,
        // The stun is the VM's pause as ESXi logs it: the hypervisor's downtime.
        downtimeMs: stunMs,
      },
      timeline,
      events,
      parameters: {},
      capabilities: [kind === 'storage' ? 'storage-vmotion' : 'vmotion'],
    };
  }

  /** The tail of the VM's vmware.log, read on the ESXi host where the VM runs now. */
  async vmwareLog(side: Side): Promise<string> {
    const vm = await this.find('VirtualMachine', this.options.vm);
    const [found] = await this.client.retrieve(vm, 'VirtualMachine', ['config.files.logDirectory']);
    const logDirectory = String(found?.props['config.files.logDirectory'] ?? '');
    const dsName = datastoreName(logDirectory);
    if (!dsName) throw new MigbenchError('MB_VSPHERE', `${this.client.host}: VM ${this.options.vm} has no log directory on a datastore (${JSON.stringify(logDirectory)})`);
    const [ds] = await this.client.retrieve(await this.find('Datastore', dsName), 'Datastore', ['summary.url']);
    const path = datastoreFile(logDirectory, String(ds?.props['summary.url'] ?? ''), 'vmware.log');
    // vmware.log grows with every migration; the last MiB holds the latest one.
    return (await this.host(side).runner.run(['tail', '-c', '1048576', path], { timeoutMs: 30_000 })).stdout;
  }

  /** The vmnic's counters as esxcli prints them on the ESXi host (no /sys/class/net on ESXi). */
  async interfaceCounters(side: Side, vmnic: string): Promise<InterfaceCounters> {
    const { runner } = this.host(side);
    const out = await runner.run(nicStatsArgv(vmnic), { timeoutMs: 30_000 });
    const counters = parseNicStats(out.stdout);
    if (!counters)
      throw new MigbenchError('MB_PROBE', `${runner.host}: esxcli printed no byte and packet counters for ${vmnic}: ${out.stdout.slice(0, 200)}`, {
        context: { host: runner.host, command: displayArgv(nicStatsArgv(vmnic)) },
      });
    return counters;
  }

  private host(side: Side): TargetHost {
    return side === 'source' ? this.options.source : this.options.destination;
  }

  async inspect(): Promise<GuestInspection> {
    const state = await this.vmState();
    return { status: state.powerState === 'poweredOn' ? 'running' : state.powerState, running: state.powerState === 'poweredOn', panicked: false, events: [] };
  }

  async diagnostics(): Promise<string> {
    return '';
  }

  /** The VM is the inventory's: it goes back to the source host (and datastore), unmeasured. */
  async destroyGuest(guest: GuestHandle): Promise<void> {
    await migrateHome(guest, this.lastKind, (g, plan) => this.migrate(g, plan), this.options);
  }

  async close(): Promise<void> {
    if (this.loggedIn) await this.client.logout().catch(() => undefined);
  }
}
