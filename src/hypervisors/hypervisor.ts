// The one interface every hypervisor driver implements (QEMU now; libvirt, XenServer,
// vSphere and Hyper-V later). The engine drives migrations through it alone.
import type { MigbenchError } from '../model/errors.js';
import type { HostEnvironment, HypervisorEvent, HypervisorKind, MigrationParameters, ProgressSample } from '../generated/results.js';
import type { GuestNetworkSpec, GuestSpec } from '../model/hardware.js';
import type { FlowPorts } from '../probes/flows.js';
import type { InterfaceCounters } from '../probes/wire.js';
import type { CommandRunner } from '../exec/runner.js';
import type { MigrationSpec } from '../model/scenario.js';
import type { Side } from '../model/side.js';

/** A hypervisor host as the drivers see it: a command runner and its migration network. */
export interface TargetHost {
  readonly role: Side;
  readonly runner: CommandRunner;
  readonly migrationAddress: string;
  readonly migrationInterface: string;
  /** Bridge the guest's tap joins. */
  readonly bridge: string;
  /** Where VM sockets and logs live on the host. */
  readonly workDir: string;
  /** CPUs (a taskset -c list) the host's QEMU processes are pinned to; unset: not pinned. */
  readonly cpus?: string;
}

export interface GuestLaunch {
  readonly vmId: string;
  readonly guest: GuestSpec;
  readonly network: GuestNetworkSpec;
  /** Kernel command line parameters of the migbench agent (migbench.KEY=VALUE). */
  readonly agent: Readonly<Record<string, string>>;
  /**
   * Where the guest's disk lives: on storage both hosts see (memory migration), or on
   * the source host's own storage, to be copied (storage migration).
   */
  readonly storage: 'shared' | 'local';
}

export interface GuestHandle {
  readonly vmId: string;
  readonly launch: GuestLaunch;
  /** What the driver changed to work around known hypervisor bugs, in words. */
  readonly workarounds: readonly string[];
  /** Where the guest runs now. */
  location: Side;
}

/** Where the guest agent's channel can be tapped: a unix socket on one host. */
export interface AgentEndpoint {
  readonly side: Side;
  readonly runner: CommandRunner;
  readonly socketPath: string;
  readonly toolPath: string;
  /**
   * The socket only appears once the migration has begun (libvirt starts the destination
   * QEMU itself): tap it without waiting, and keep trying to connect until it exists.
   */
  readonly appearsDuringMigration?: boolean;
}

/** What the hypervisor itself reports about a finished migration, in migbench's names. */
export interface HypervisorFigures {
  readonly totalTimeMs: number | null;
  readonly downtimeMs: number | null;
  /** Downtime minus the hypervisor's estimate of network time (libvirt's downtime_net). */
  readonly downtimeNetMs?: number | null;
  readonly setupTimeMs: number | null;
  readonly transferredBytes: number | null;
  readonly iterations: number | null;
  readonly dirtyRatePagesPerSec: number | null;
  readonly stopToResumeMs: number | null;
  /** Storage migration: disk mirror start to ready. */
  readonly mirrorTimeMs: number | null;
  /** Storage migration: bytes the mirror job copied. */
  readonly diskBytes: number | null;
}

/** How much of a guest's console guestConsole reads: the last 64 KiB, a few oopses. */
export const GUEST_CONSOLE_BYTES = 64 * 1024;

/** Nothing reported: where a migration failed before the hypervisor said anything, or a figure it never gives. */
export const NO_FIGURES: HypervisorFigures = {
  totalTimeMs: null,
  downtimeMs: null,
  setupTimeMs: null,
  transferredBytes: null,
  iterations: null,
  dirtyRatePagesPerSec: null,
  stopToResumeMs: null,
  mirrorTimeMs: null,
  diskBytes: null,
};

/** How a storage migration's disk copy went; times are ms since the epoch. */
export interface StorageOutcome {
  readonly mirrorStartedAtMs: number;
  readonly mirrorReadyAtMs: number | null;
  readonly jobLenBytes: number | null;
  readonly jobOffsetBytes: number | null;
  /** How long bringing the copy in sync took after the memory migration completed. */
  readonly cancelMs: number | null;
}

export interface MigrationHooks {
  /**
   * Called once the ports of the migration's streams are known and before any of their
   * bytes are sent, so per-flow counters can be set up.
   */
  beforeTransfer?(ports: FlowPorts): Promise<void>;
  /** Called with each progress sample as the timeline gets it, for a live progress bar. */
  onSample?(sample: ProgressSample): void;
}

export interface MigrationOutcome {
  readonly status: 'completed' | 'failed' | 'cancelled';
  readonly error: MigbenchError | null;
  /** When the migrate command was issued, ms since the epoch (the record's time origin). */
  readonly startedAtMs: number;
  /** Storage migration only; the disk copy starts before the migrate command. */
  readonly storage: StorageOutcome | null;
  /** When the runner saw the final status, ms since the epoch. */
  readonly endedAtMs: number;
  readonly figures: HypervisorFigures;
  readonly timeline: ProgressSample[];
  readonly events: HypervisorEvent[];
  readonly parameters: MigrationParameters;
  readonly capabilities: string[];
}

/** The guest where it runs now, and what the hypervisor said since the migration began. */
export interface GuestInspection {
  /** The hypervisor's word for the guest's state, e.g. running, paused, guest-panicked. */
  readonly status: string;
  readonly running: boolean;
  readonly panicked: boolean;
  /** Events of both hosts since the migrate command (complete, unlike the outcome's snapshot). */
  readonly events: HypervisorEvent[];
}

export interface Hypervisor {
  readonly kind: HypervisorKind;
  /** Versions, accelerator and CPU of both hosts, recorded with every result. */
  describe(): Promise<{ source: HostEnvironment; destination: HostEnvironment }>;
  /** Boots the guest on the source host; resolves once the hypervisor runs it. */
  startGuest(launch: GuestLaunch): Promise<GuestHandle>;
  /** Gets the destination ready to receive (a no-op where the hypervisor does it itself). */
  prepareDestination(guest: GuestHandle, plan: MigrationSpec): Promise<void>;
  /** Migrates and reports; a failed or cancelled migration resolves, it does not throw. */
  migrate(guest: GuestHandle, plan: MigrationSpec, hooks?: MigrationHooks): Promise<MigrationOutcome>;
  /** The agent channel on a side, or null where the guest has no migbench agent. */
  agentEndpoint(guest: GuestHandle, side: Side): AgentEndpoint | null;
  /**
   * Pauses the guest where it runs for `durationMs` and resumes it; returns when the
   * hypervisor says it stopped and resumed (ms since the epoch). Calibrates the probes.
   * Optional: not every hypervisor can pause on demand.
   */
  pause?(guest: GuestHandle, durationMs: number): Promise<{ stoppedAtMs: number; resumedAtMs: number }>;
  /**
   * The migration interface's counters on a host, where the host is not Linux (ESXi's
   * esxcli, Windows' Get-NetAdapterStatistics). Without it, /sys/class/net over the runner.
   */
  interfaceCounters?(side: Side, iface: string): Promise<InterfaceCounters>;
  /** State of the guest where it runs now. */
  inspect(guest: GuestHandle): Promise<GuestInspection>;
  /** Console and hypervisor log tails, for error messages. */
  diagnostics(guest: GuestHandle, side: Side): Promise<string>;
  /**
   * The guest's serial console on a side (its last 64 KiB), read when a guest is lost to
   * say why. Optional: where migbench cannot read the console, the record says less.
   */
  guestConsole?(guest: GuestHandle, side: Side): Promise<string>;
  /**
   * Ping-pong: makes the guest, which a completed migration left running on the
   * destination, the guest on the source of the returned driver (this one with the hosts'
   * roles swapped, sharing its guests), so the next migration takes it back; what it left
   * on the old source is removed. Optional: without it every sample boots a fresh guest.
   */
  turnAround?(guest: GuestHandle): Promise<{ readonly hypervisor: Hypervisor; readonly guest: GuestHandle }>;
  /**
   * Stops (true) or resumes (false) the guest's vCPUs where it runs: a guest held between
   * samples waits paused while another guest is measured. Optional, as turnAround.
   */
  setPaused?(guest: GuestHandle, paused: boolean): Promise<void>;
  /** Stops the guest on both hosts and removes what was created for it. */
  destroyGuest(guest: GuestHandle): Promise<void>;
  close(): Promise<void>;
}
