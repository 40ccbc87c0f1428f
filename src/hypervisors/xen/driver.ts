// The XenServer / XCP-ng driver: XenAPI over JSON-RPC. The guest is a VM the pool already
// has (migbench does not install guests on a pool); memory migration is
// Async.VM.pool_migrate to another host of the pool, storage migration is
// host.migrate_receive on the destination then Async.VM.migrate_send with VDI and VIF
// maps. XenAPI reports task times (whole seconds) and progress; downtime and bytes come
// from migbench's probe and the dom0 migration interface counters (the engine's).
import { MigbenchError } from '../../model/errors.js';
import type { HostEnvironment, ProgressSample } from '../../generated/results.js';
import { describeHost } from '../../exec/host.js';
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
import { toXenTask, XenApiError, type XenApiClient, type XenTask } from './client.js';
import { epochMs } from '../../model/time.js';
import type { Side } from '../../model/side.js';

export interface XenServerDriverOptions {
  readonly source: TargetHost;
  readonly destination: TargetHost;
  readonly client: XenApiClient;
  readonly user: string;
  /** Read when logging in; never stored in records or messages. */
  readonly password: () => Promise<string>;
  /** The pool's VM to migrate (its name label). */
  readonly vm: string;
  /** Host name labels in the pool. */
  readonly sourceHost: string;
  readonly destinationHost: string;
  /**
   * Storage migration: the SR (name label) every disk goes to and the network every VIF
   * joins on the destination host; sourceSr/sourceNetwork bring the VM back afterwards.
   */
  readonly storage?: { readonly sr: string; readonly network: string; readonly sourceSr?: string; readonly sourceNetwork?: string };
  /** How often task.get_record is polled. @default 250 */
  readonly pollIntervalMs?: number;
}

export class XenServerHypervisor implements Hypervisor {
  readonly kind = 'xenserver' as const;
  private loggedIn: Promise<void> | null = null;
  /** How the VM last moved, so it goes home the same way. */
  private lastKind: MigrationSpec['kind'] = 'memory';

  constructor(private readonly options: XenServerDriverOptions) {}

  private get client(): XenApiClient {
    return this.options.client;
  }

  private login(): Promise<void> {
    this.loggedIn ??= (async () => {
      await this.client.login(this.options.user, await this.options.password());
    })();
    this.loggedIn.catch(() => (this.loggedIn = null));
    return this.loggedIn;
  }

  private async one(cls: 'VM' | 'host' | 'SR' | 'network', label: string): Promise<string> {
    await this.login();
    const refs = await this.client.withSession<string[]>(`${cls}.get_by_name_label`, [label]);
    if (refs.length !== 1)
      throw new MigbenchError('MB_XENAPI', `${this.client.host}: ${refs.length === 0 ? 'no' : `${refs.length}`} ${cls} named ${JSON.stringify(label)} in the pool`, {
        userError: refs.length === 0,
        context: { host: this.client.host },
      });
    return refs[0]!;
  }

  private async hostRecord(label: string): Promise<Record<string, unknown>> {
    return this.client.withSession<Record<string, unknown>>('host.get_record', [await this.one('host', label)]);
  }

  async describe(): Promise<{ source: HostEnvironment; destination: HostEnvironment }> {
    const describeSide = async (side: Side) => {
      const record = await this.hostRecord(side === 'source' ? this.options.sourceHost : this.options.destinationHost);
      const sw = (record.software_version ?? {}) as Record<string, string>;
      const version = [sw.product_brand ?? 'XenServer', sw.product_version ?? sw.platform_version ?? '?', sw.xen ? `(Xen ${sw.xen})` : ''].filter(Boolean).join(' ');
      return describeHost((side === 'source' ? this.options.source : this.options.destination).runner, version, 'xen', 'XenServer runs guests on Xen');
    };
    return { source: await describeSide('source'), destination: await describeSide('destination') };
  }

  /** The pool's VM, which must be running on the source host. */
  async startGuest(launch: GuestLaunch): Promise<GuestHandle> {
    const vm = await this.one('VM', this.options.vm);
    const record = await this.client.withSession<Record<string, unknown>>('VM.get_record', [vm]);
    const at = { endpoint: this.client.host, vm: this.options.vm, sourceHost: this.options.sourceHost };
    assertRunning(at, String(record.power_state), record.power_state === 'Running', 'start it');
    assertOnSource(at, record.resident_on === (await this.one('host', this.options.sourceHost)));
    return sourceGuest(launch);
  }

  async prepareDestination(): Promise<void> {
    // XenAPI prepares the destination itself (host.migrate_receive for storage migration is part of migrate).
  }

  agentEndpoint(): AgentEndpoint | null {
    // Pool VMs carry no migbench agent: guest-perceived pause and memory checks are not measured.
    return null;
  }

  async migrate(guest: GuestHandle, plan: MigrationSpec, hooks: MigrationHooks = {}): Promise<MigrationOutcome> {
    const vm = await this.one('VM', this.options.vm);
    const destination = await this.one('host', guest.location === 'source' ? this.options.destinationHost : this.options.sourceHost);
    this.lastKind = plan.kind;
    let task: string;
    const startedAtMs = epochMs();
    try {
      task =
        plan.kind === 'memory'
          ? await this.client.withSession<string>('Async.VM.pool_migrate', [vm, destination, { live: 'true' }])
          : await this.migrateSend(guest, vm, destination);
    } catch (error) {
      return this.failed(startedAtMs, error);
    }
    const { final, cancelled, timeline } = await pollTask(this.polledTask(task), {
      startedAtMs,
      timeoutMs: plan.timeoutMs,
      intervalMs: this.options.pollIntervalMs ?? 250,
      ...(hooks.onSample && { onSample: hooks.onSample }),
    });
    const endedAtMs = epochMs();
    await this.client.withSession('task.destroy', [task]).catch(() => undefined);
    if (final.status === 'success') guest.location = guest.location === 'source' ? 'destination' : 'source';
    return this.ended(plan, final, cancelled, { startedAtMs, endedAtMs, timeline });
  }

  /** Storage migration: the destination host receives, then the VM is sent with its disks and VIFs mapped onto it. */
  private async migrateSend(guest: GuestHandle, vm: string, destination: string): Promise<string> {
    const storage = this.options.storage;
    const outbound = guest.location === 'source';
    const [srLabel, networkLabel] = outbound ? [storage?.sr, storage?.network] : [storage?.sourceSr, storage?.sourceNetwork];
    if (!srLabel || !networkLabel) {
      throw new MigbenchError(
        'MB_CONFIG_INVALID',
        `storage migration on XenServer needs xenserver.storage.${outbound ? 'sr and network' : 'sourceSr and sourceNetwork (to bring the VM back)'} in the target`,
        { userError: true },
      );
    }
    const [sr, network] = [await this.one('SR', srLabel), await this.one('network', networkLabel)];
    const record = await this.client.withSession<{ VBDs?: string[]; VIFs?: string[] }>('VM.get_record', [vm]);
    const dest = await this.client.withSession<Record<string, string>>('host.migrate_receive', [destination, network, {}]);
    const vdis = await this.vdisOf(record.VBDs ?? []);
    return this.client.withSession<string>('Async.VM.migrate_send', [
      vm,
      dest,
      true,
      Object.fromEntries(vdis.map((v) => [v, sr])),
      Object.fromEntries((record.VIFs ?? []).map((v) => [v, network])),
      {},
      {},
    ]);
  }

  /** The XenAPI task as the poller sees it; task.get_record's fields are translated by toXenTask alone. */
  private polledTask(task: string): PolledTask<XenTask> {
    return {
      read: async () => toXenTask(await this.client.withSession<Record<string, unknown>>('task.get_record', [task])),
      progress: (t) => statusProgress(t.status),
      isTerminal: (t) => t.status !== 'pending' && t.status !== 'cancelling',
      cancel: () => this.client.withSession('task.cancel', [task]),
    };
  }

  private ended(plan: MigrationSpec, final: XenTask, cancelled: boolean, times: { startedAtMs: number; endedAtMs: number; timeline: ProgressSample[] }): MigrationOutcome {
    const status = final.status === 'success' ? 'completed' : final.status === 'cancelled' ? 'cancelled' : 'failed';
    return {
      status,
      error:
        status === 'completed'
          ? null
          : new MigbenchError(
              cancelled ? 'MB_TIMEOUT' : 'MB_MIGRATION',
              cancelled
                ? `migration did not complete within ${plan.timeoutMs} ms and was cancelled (task.cancel)`
                : `XenAPI task failed: ${final.errorInfo.join(', ') || 'no error_info'}`,
              {
                context: { host: this.client.host, xenApiMethod: plan.kind === 'memory' ? 'Async.VM.pool_migrate' : 'Async.VM.migrate_send' },
              },
            ),
      startedAtMs: times.startedAtMs,
      endedAtMs: times.endedAtMs,
      storage: null,
      // XenAPI's task times have whole-second resolution: the total is reported as such.
      figures: { ...NO_FIGURES, totalTimeMs: final.createdAtMs !== null && final.finishedAtMs !== null ? final.finishedAtMs - final.createdAtMs : null },
      timeline: times.timeline,
      events: [],
      parameters: {},
      capabilities: [plan.kind === 'memory' ? 'pool_migrate' : 'migrate_send'],
    };
  }

  private async vdisOf(vbds: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (const vbd of vbds) {
      const record = await this.client.withSession<{ VDI?: string; type?: string }>('VBD.get_record', [vbd]);
      if (record.type === 'Disk' && record.VDI && record.VDI !== 'OpaqueRef:NULL') out.push(record.VDI);
    }
    return out;
  }

  private failed(startedAtMs: number, error: unknown): MigrationOutcome {
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 'failed',
      error: error instanceof MigbenchError ? error : new MigbenchError('MB_MIGRATION', message),
      startedAtMs,
      endedAtMs: epochMs(),
      storage: null,
      figures: NO_FIGURES,
      timeline: [],
      events: [],
      parameters: {},
      capabilities: [],
    };
  }

  async inspect(): Promise<GuestInspection> {
    const record = await this.client.withSession<Record<string, unknown>>('VM.get_record', [await this.one('VM', this.options.vm)]);
    const state = String(record.power_state ?? 'unknown');
    return { status: state === 'Running' ? 'running' : state.toLowerCase(), running: state === 'Running', panicked: false, events: [] };
  }

  async diagnostics(): Promise<string> {
    return '';
  }

  /** The VM is the pool's: it goes back to the source host, unmeasured, so the next run starts there. */
  async destroyGuest(guest: GuestHandle): Promise<void> {
    await migrateHome(guest, this.lastKind, (g, plan) => this.migrate(g, plan), this.options);
  }

  async close(): Promise<void> {
    if (this.client.session)
      await this.client.logout().catch((error: unknown) => {
        if (!(error instanceof XenApiError)) throw error;
      });
  }
}
