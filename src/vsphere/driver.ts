// The VMware vSphere driver: vim25 through vCenter. Like XenServer, the guest is a VM the
// inventory already has; RelocateVM_Task to another host is vMotion (memory migration),
// with a datastore as well it is storage vMotion. vCenter reports the task's start and
// completion; the stun time is in the VM's vmware.log on the ESXi host, which migbench
// reads over SSH where it is configured; downtime and bytes otherwise come from the probe
// and the migration interface counters the runner can see.
import { MigbenchError } from '../errors.js';
import type { HostEnvironment, ProgressSample } from '../generated/results.js';
import { NO_FIGURES, type AgentEndpoint, type GuestHandle, type GuestInspection, type GuestLaunch, type Hypervisor, type MigrationOutcome, type TargetHost } from '../hypervisor.js';
import type { Side } from '../probe/agent.js';
import { epochMs } from '../probe/gaps.js';
import { statusSample } from '../progress.js';
import type { MigrationSpec } from '../scenario.js';
import { VsphereClient, type MoRef, type VsphereTaskInfo } from './client.js';

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
  /** vmware.log lines of a completed migration (read over SSH from the ESXi host), for the stun time. */
  readonly readVmwareLog?: (side: Side) => Promise<string | null>;
  /** @default 250 */
  readonly pollIntervalMs?: number;
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last stun of a migration in vmware.log: "Checkpoint_Unstun: vm stopped for 401234 us". */
export function parseStunMs(vmwareLog: string): number | null {
  const matches = [...vmwareLog.matchAll(/Checkpoint_Unstun: vm stopped for (\d+) us/g)];
  const last = matches.at(-1);
  return last ? Number(last[1]) / 1000 : null;
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
      throw new MigbenchError('MB_VSPHERE', `${this.client.host}: ${found.length === 0 ? 'no' : found.length} ${type} named ${JSON.stringify(name)} in the inventory`, { userError: found.length === 0, context: { host: this.client.host } });
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
    const state = await this.vmState();
    if (state.powerState !== 'poweredOn') throw new MigbenchError('MB_GUEST', `${this.client.host}: VM ${this.options.vm} is ${state.powerState}; power it on on ${this.options.sourceHost} first`, { userError: true });
    const source = await this.find('HostSystem', this.options.sourceHost);
    if (state.host !== source.value) throw new MigbenchError('MB_GUEST', `${this.client.host}: VM ${this.options.vm} does not run on ${this.options.sourceHost}; migbench migrates it from there`, { userError: true });
    return { vmId: launch.vmId, launch, location: 'source', workarounds: [] };
  }

  async prepareDestination(): Promise<void> {
    // vCenter prepares the destination host itself.
  }

  agentEndpoint(): AgentEndpoint | null {
    // Inventory VMs carry no migbench agent.
    return null;
  }

  async migrate(guest: GuestHandle, plan: MigrationSpec): Promise<MigrationOutcome> {
    const outbound = guest.location === 'source';
    this.lastKind = plan.kind;
    const startedAtMs = epochMs();
    let task: MoRef;
    try {
      const vm = await this.find('VirtualMachine', this.options.vm);
      const host = await this.find('HostSystem', outbound ? this.options.destinationHost : this.options.sourceHost);
      let datastore: MoRef | undefined;
      if (plan.kind === 'storage') {
        const name = outbound ? this.options.storage?.datastore : this.options.storage?.sourceDatastore;
        if (!name) throw new MigbenchError('MB_CONFIG_INVALID', `storage vMotion needs vsphere.storage.${outbound ? 'datastore' : 'sourceDatastore (to bring the VM back)'} in the target`, { userError: true });
        datastore = await this.find('Datastore', name);
      }
      task = await this.client.relocate(vm, { host, ...(datastore && { datastore }) });
    } catch (error) {
      return this.outcomeOf(startedAtMs, null, [], error instanceof MigbenchError ? error : new MigbenchError('MB_MIGRATION', String(error)));
    }
    const timeline: ProgressSample[] = [];
    let info: VsphereTaskInfo;
    let cancelled = false;
    for (;;) {
      info = await this.client.taskInfo(task);
      timeline.push(statusSample(epochMs() - startedAtMs, info.state));
      if (info.state === 'success' || info.state === 'error') break;
      if (!cancelled && epochMs() - startedAtMs > plan.timeoutMs) {
        cancelled = true;
        await this.client.cancelTask(task).catch(() => undefined);
      }
      await sleep(this.options.pollIntervalMs ?? 250);
    }
    if (info.state === 'success') guest.location = outbound ? 'destination' : 'source';
    const error =
      info.state === 'success'
        ? null
        : new MigbenchError(cancelled ? 'MB_TIMEOUT' : 'MB_MIGRATION', cancelled ? `migration did not complete within ${plan.timeoutMs} ms and was cancelled (CancelTask): ${info.error ?? ''}` : `RelocateVM_Task failed: ${info.error ?? 'no error in the task info'}`, {
            context: { host: this.client.host, vim25Method: 'RelocateVM_Task' },
          });
    const stunMs = info.state === 'success' && this.options.readVmwareLog ? parseStunMs((await this.options.readVmwareLog(guest.location).catch(() => null)) ?? '') : null;
    return this.outcomeOf(startedAtMs, info, timeline, error, cancelled, plan.kind, stunMs);
  }

  private outcomeOf(startedAtMs: number, info: VsphereTaskInfo | null, timeline: ProgressSample[], error: MigbenchError | null, cancelled = false, kind: MigrationSpec['kind'] = 'memory', stunMs: number | null = null): MigrationOutcome {
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
      events: [],
      parameters: {},
      capabilities: [kind === 'storage' ? 'storage-vmotion' : 'vmotion'],
    };
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
    if (guest.location !== 'destination') return;
    const back = await this.migrate(guest, { kind: this.lastKind, timeoutMs: 600_000 });
    if (back.status !== 'completed') throw new MigbenchError('MB_CLEANUP', `VM ${this.options.vm} did not go back to ${this.options.sourceHost}: ${back.error?.message ?? back.status}`);
  }

  async close(): Promise<void> {
    if (this.loggedIn) await this.client.logout().catch(() => undefined);
  }
}
