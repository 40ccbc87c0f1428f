// The Hyper-V driver: PowerShell over SSH (OpenSSH on Windows Server) on the host where
// the VM runs. Move-VM -AsJob (with -IncludeStorage for storage migration), the job polled,
// Msvm_MigrationJob for progress and cancel, the VMMS-Admin blackout event (20415/20417) for
// downtime. Like XenServer and vSphere, the VM is the host's: it goes back afterwards.
import { MigbenchError } from '../../model/errors.js';
import type { HostEnvironment, ProgressSample } from '../../generated/results.js';
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
import { assertRunning, migrateHome, sourceGuest } from '../vendor.js';
import type { MigrationSpec } from '../../model/scenario.js';
import type { InterfaceCounters } from '../../probes/wire.js';
import { ADAPTER_STATISTICS, adapterStatisticsScript, blackoutScript, cancelScript, jobStatusScript, moveVmScript, vmStateScript } from './powershell.js';
import { powershellArgv } from '../../exec/quote.js';
import { epochMs } from '../../model/time.js';
import type { Side } from '../../model/side.js';

export interface HypervDriverOptions {
  readonly source: TargetHost;
  readonly destination: TargetHost;
  readonly vm: string;
  /** Computer names Move-VM is given. */
  readonly sourceHost: string;
  readonly destinationHost: string;
  /** Storage migration: the VM's folder on the destination, and on the source for the way back. */
  readonly storage?: { readonly destinationPath: string; readonly sourcePath?: string };
  /** The PowerShell command. @default ['powershell'] */
  readonly shell?: readonly string[];
  /** @default 500 */
  readonly pollIntervalMs?: number;
}

export interface HypervJobStatus {
  readonly state: 'running' | 'completed' | 'failed' | 'cancelled';
  readonly beganAtMs: number | null;
  readonly endedAtMs: number | null;
  readonly reason: string | null;
  readonly percent: number | null;
  /** This VM's live-migration counters in this poll, or null where no instance was there. */
  readonly liveMigration: LiveMigrationCounters | null;
}

export interface LiveMigrationCounters {
  /** Memory the walker sent uncompressed plus what the compressor sent: the memory payload. */
  readonly transferredBytes: number;
  readonly passes: number;
}

const time = (v: unknown) => (typeof v === 'string' && Number.isFinite(Date.parse(v)) ? Date.parse(v) : null);

// What the scripts print reaches these translations as parsed JSON, unchecked (ps<T> only
// casts): null, arrays and objects where numbers belong must not throw a TypeError. Found by
// test/properties/powershell.prop.test.ts: toJobStatus(null), blackoutMs([null]),
// toLiveMigrationCounters([null]), toInterfaceCounters(null), and {"toString": 1} as a value
// (Number() throws on it) all did.
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Number(v), NaN for an object or array. */
const toNumber = (v: unknown): number => (typeof v === 'object' && v !== null ? Number.NaN : Number(v));

/** The one translation of the job status script's output. */
export function toJobStatus(raw: Record<string, unknown>, vm: string): HypervJobStatus {
  if (!isRecord(raw)) throw new MigbenchError('MB_HYPERV', `Get-Job gave no job status for VM ${JSON.stringify(vm)}: ${String(JSON.stringify(raw)).slice(0, 200)}`);
  // A state is a string; String() of {"toString": 1} threw.
  const state = typeof raw.state === 'string' ? raw.state : undefined;
  return {
    state: state === 'Completed' ? 'completed' : state === 'Failed' ? 'failed' : state === 'Stopped' ? 'cancelled' : 'running',
    beganAtMs: time(raw.begin),
    endedAtMs: time(raw.end),
    reason: typeof raw.reason === 'string' && raw.reason ? raw.reason : null,
    // JSON's 1e400 is Infinity: not a percentage.
    percent: typeof raw.percent === 'number' && Number.isFinite(raw.percent) ? raw.percent : null,
    liveMigration: toLiveMigrationCounters(raw.liveMigration, vm),
  };
}

/**
 * The one translation of the "Hyper-V VM Live Migration" counter set. Instances are named
 * after the VM; where a host shows one instance only, that is the migration in flight.
 */
export function toLiveMigrationCounters(raw: unknown, vm: string): LiveMigrationCounters | null {
  const list = (Array.isArray(raw) ? raw : [raw]).filter(isRecord);
  const mine = list.filter((i) => i.Name === vm);
  const instance = mine.length === 1 ? mine[0]! : list.length === 1 ? list[0]! : null;
  if (!instance) return null;
  const n = (name: string) => (Number.isFinite(toNumber(instance[name])) && instance[name] !== null ? toNumber(instance[name]) : null);
  const uncompressed = n('MemoryWalkerUncompressedBytesSent');
  const compressed = n('CompressorCompressedBytesSent');
  if (uncompressed === null && compressed === null) return null;
  const transferredBytes = (uncompressed ?? 0) + (compressed ?? 0);
  // Two counters near 1.8e308 add up to Infinity: not a byte count.
  if (!Number.isFinite(transferredBytes)) return null;
  return { transferredBytes, passes: n('TransferPassNumber') ?? 0 };
}

/** The one translation of Get-NetAdapterStatistics. */
export function toInterfaceCounters(raw: Record<string, unknown>, adapter: string): InterfaceCounters {
  const fields = isRecord(raw) ? raw : {};
  const values = ADAPTER_STATISTICS.map((k) => toNumber(fields[k]));
  if (values.some((v, i) => fields[ADAPTER_STATISTICS[i]!] == null || !Number.isSafeInteger(v) || v < 0)) {
    throw new MigbenchError('MB_PROBE', `Get-NetAdapterStatistics gave no byte and packet counters for adapter ${JSON.stringify(adapter)}: ${JSON.stringify(raw).slice(0, 200)}`);
  }
  const [rxBytes, txBytes, rxPackets, txPackets] = values as [number, number, number, number];
  return { rxBytes, txBytes, rxPackets, txPackets };
}

/** The longest blackout of the move, ms (event 20415's third property is seconds). */
export function blackoutMs(events: unknown): number | null {
  const list = (Array.isArray(events) ? events : [events]).filter(isRecord);
  const seconds = list.map((e) => toNumber(e.blackoutSeconds)).filter(Number.isFinite);
  const ms = seconds.length ? Math.max(...seconds) * 1000 : null;
  // Seconds near 1.8e308 are Infinity in ms: not a time.
  return ms !== null && Number.isFinite(ms) ? ms : null;
}

export class HypervHypervisor implements Hypervisor {
  readonly kind = 'hyperv' as const;
  private lastKind: MigrationSpec['kind'] = 'memory';

  constructor(private readonly options: HypervDriverOptions) {}

  private host(side: Side): TargetHost {
    return side === 'source' ? this.options.source : this.options.destination;
  }

  /** Runs a script on a host and returns its JSON; a caught PowerShell error becomes a MigbenchError. */
  async ps<T = Record<string, unknown>>(side: Side, script: string, what: string): Promise<T> {
    const { runner } = this.host(side);
    const out = await runner.run(powershellArgv(script, this.options.shell), { check: false, timeoutMs: 120_000 });
    let parsed: unknown;
    try {
      parsed = JSON.parse(out.stdout.trim() || 'null');
    } catch {
      throw new MigbenchError(
        'MB_HYPERV',
        `${runner.host}: ${what}: PowerShell did not answer with JSON (exit ${out.exitCode}): ${(out.stderr || out.stdout).trim().slice(0, 200)}`,
        { context: { host: runner.host } },
      );
    }
    if (parsed && typeof parsed === 'object' && 'error' in parsed) {
      const e = parsed as { error: unknown; id?: unknown };
      throw new MigbenchError('MB_HYPERV', `${runner.host}: ${what} failed: ${String(e.error)}${e.id ? ` (${String(e.id)})` : ''}`, { context: { host: runner.host } });
    }
    if (!out.ok)
      throw new MigbenchError('MB_HYPERV', `${runner.host}: ${what}: PowerShell exited ${out.exitCode}: ${out.stderr.trim().slice(0, 200)}`, { context: { host: runner.host } });
    return parsed as T;
  }

  async describe(): Promise<{ source: HostEnvironment; destination: HostEnvironment }> {
    const env = (side: Side): HostEnvironment => ({
      host: side === 'source' ? this.options.sourceHost : this.options.destinationHost,
      kernel: 'Windows',
      cpuModel: 'unknown',
      cpuCount: 0,
      hypervisorVersion: 'Hyper-V',
      accel: 'hyperv',
    });
    return { source: env('source'), destination: env('destination') };
  }

  async startGuest(launch: GuestLaunch): Promise<GuestHandle> {
    const state = await this.ps<{ state: string }>('source', vmStateScript(this.options.vm), `Get-VM ${this.options.vm}`);
    // Get-VM runs on the source host itself, so the VM it finds is there.
    assertRunning({ endpoint: this.host('source').runner.host, vm: this.options.vm, sourceHost: this.options.sourceHost }, state.state, state.state === 'Running', 'start it');
    return sourceGuest(launch);
  }

  async prepareDestination(): Promise<void> {
    // Move-VM prepares the destination.
  }

  agentEndpoint(): AgentEndpoint | null {
    return null;
  }

  async migrate(guest: GuestHandle, plan: MigrationSpec, hooks: MigrationHooks = {}): Promise<MigrationOutcome> {
    const from = guest.location;
    const outbound = from === 'source';
    this.lastKind = plan.kind;
    const startedAtMs = epochMs();
    let job: { jobId: number; started: string };
    try {
      job = await this.moveVm(from, plan);
    } catch (error) {
      return this.outcome(startedAtMs, [], null, error instanceof MigbenchError ? error : new MigbenchError('MB_MIGRATION', String(error)), false, plan.kind, null);
    }
    const polled = this.polledJob(from, job.jobId);
    const {
      final: status,
      cancelled,
      timeline,
    } = await pollTask(polled, { startedAtMs, timeoutMs: plan.timeoutMs, intervalMs: this.options.pollIntervalMs ?? 500, ...(hooks.onSample && { onSample: hooks.onSample }) });
    if (status.state === 'completed') guest.location = outbound ? 'destination' : 'source';
    // The blackout event is logged by the VMMS of the host the VM left.
    const downtimeMs = status.state === 'completed' ? blackoutMs(await this.ps<unknown>(from, blackoutScript(job.started), 'Get-WinEvent').catch(() => null)) : null;
    const error =
      status.state === 'completed'
        ? null
        : new MigbenchError(
            cancelled ? 'MB_TIMEOUT' : 'MB_MIGRATION',
            cancelled
              ? `migration did not complete within ${plan.timeoutMs} ms and was cancelled (Msvm_MigrationJob RequestStateChange 4)`
              : `Move-VM failed: ${status.reason ?? 'no reason given'}`,
            {
              context: { host: this.host(from).runner.host },
            },
          );
    return this.outcome(startedAtMs, timeline, status, error, cancelled, plan.kind, downtimeMs, polled.counters());
  }

  /** Move-VM -AsJob on the host the VM runs on, to the other host (with its storage, for a storage migration). */
  private async moveVm(from: Side, plan: MigrationSpec): Promise<{ jobId: number; started: string }> {
    const outbound = from === 'source';
    let destinationStoragePath: string | undefined;
    if (plan.kind === 'storage') {
      destinationStoragePath = outbound ? this.options.storage?.destinationPath : this.options.storage?.sourcePath;
      if (!destinationStoragePath)
        throw new MigbenchError(
          'MB_CONFIG_INVALID',
          `storage migration on Hyper-V needs hyperv.storage.${outbound ? 'destinationPath' : 'sourcePath (to bring the VM back)'} in the target`,
          { userError: true },
        );
    }
    return this.ps(
      from,
      moveVmScript({
        vm: this.options.vm,
        destinationHost: outbound ? this.options.destinationHost : this.options.sourceHost,
        ...(destinationStoragePath !== undefined && { destinationStoragePath }),
      }),
      'Move-VM',
    );
  }

  /**
   * The migration job as the poller sees it (Get-Job's output is translated by toJobStatus
   * alone), and the last live-migration counters it showed: the counter instance is gone once
   * the job has ended.
   */
  private polledJob(from: Side, jobId: number): PolledTask<HypervJobStatus> & { counters(): LiveMigrationCounters | null } {
    let counters: LiveMigrationCounters | null = null;
    return {
      read: async () => {
        const status = toJobStatus(await this.ps(from, jobStatusScript(jobId, this.options.vm), 'Get-Job'), this.options.vm);
        counters = status.liveMigration ?? counters;
        return status;
      },
      progress: (status) => statusProgress(status.state),
      isTerminal: (status) => status.state !== 'running',
      cancel: () => this.ps(from, cancelScript(this.options.vm), 'cancel the migration job'),
      counters: () => counters,
    };
  }

  /** The migration adapter's counters, from Windows (there is no /sys/class/net). */
  async interfaceCounters(side: Side, adapter: string): Promise<InterfaceCounters> {
    return toInterfaceCounters(await this.ps(side, adapterStatisticsScript(adapter), `Get-NetAdapterStatistics ${adapter}`), adapter);
  }

  private outcome(
    startedAtMs: number,
    timeline: ProgressSample[],
    status: HypervJobStatus | null,
    error: MigbenchError | null,
    cancelled: boolean,
    kind: MigrationSpec['kind'],
    downtimeMs: number | null,
    counters: LiveMigrationCounters | null = null,
  ): MigrationOutcome {
    return {
      status: error === null ? 'completed' : cancelled || status?.state === 'cancelled' ? 'cancelled' : 'failed',
      error,
      startedAtMs,
      endedAtMs: epochMs(),
      storage: null,
      figures: {
        ...NO_FIGURES,
        totalTimeMs: status?.beganAtMs != null && status.endedAtMs != null ? status.endedAtMs - status.beganAtMs : null,
        downtimeMs,
        transferredBytes: counters?.transferredBytes ?? null,
        iterations: counters?.passes || null,
      },
      timeline,
      events: [],
      parameters: {},
      capabilities: [kind === 'storage' ? 'move-vm-include-storage' : 'move-vm'],
    };
  }

  async inspect(guest: GuestHandle): Promise<GuestInspection> {
    const state = await this.ps<{ state: string }>(guest.location, vmStateScript(this.options.vm), `Get-VM ${this.options.vm}`).catch(() => ({ state: 'unknown' }));
    return { status: state.state === 'Running' ? 'running' : state.state.toLowerCase(), running: state.state === 'Running', panicked: false, events: [] };
  }

  async diagnostics(): Promise<string> {
    return '';
  }

  async destroyGuest(guest: GuestHandle): Promise<void> {
    await migrateHome(guest, this.lastKind, (g, plan) => this.migrate(g, plan), this.options);
  }

  async close(): Promise<void> {}
}
