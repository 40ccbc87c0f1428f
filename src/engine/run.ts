// One migration's state, which its phases fill in as they go: what was started (and so
// must be torn down) and what was measured (and so goes into the record).
import type { LiveProgress } from '../model/progress.js';
import { randomBytes } from 'node:crypto';
import type { Environment, HypervisorEvent, RecordWarning } from '../generated/results.js';
import { addressOnly, guestMac, PATTERN_MIB } from '../model/hardware.js';
import { agentParameters, type Scenario } from '../model/scenario.js';
import type { Side } from '../model/side.js';
import { epochMs } from '../model/time.js';
import type { GuestHandle, GuestLaunch, MigrationOutcome } from '../hypervisors/hypervisor.js';
import type { AgentTap } from '../probes/agent.js';
import type { FlowBytes, FlowCounters } from '../probes/flows.js';
import type { IcmpProbe, ProbeTotals } from '../probes/icmp.js';
import type { InterfaceCounters } from '../probes/wire.js';
import type { CommandRunner } from '../exec/runner.js';
import type { ConnectedTarget } from './target.js';
import type { GuestChain, HeldGuest } from './chain.js';

export interface RunRequest {
  readonly scenario: Scenario;
  readonly suite: string;
  readonly test: string;
  readonly repetition: number;
  /** Matrix axis labels of the scenario, by axis path. */
  readonly axes?: Readonly<Record<string, string>>;
  /**
   * Fault injection: runs after the migration and before the guest is verified, so tests
   * can damage what a migration delivered and see migbench report it. `agent` is the guest's
   * agent where it now runs (absent without one), for damage the hypervisor cannot write
   * (QEMU's monitor reads guest memory but does not write it).
   */
  readonly afterMigration?: (guest: GuestHandle, agent?: Pick<AgentTap, 'send'>) => Promise<void>;
  /**
   * Fault injection: called (not awaited) as the migrate command is about to be issued, so
   * a test can break a process, a link or a connection while the migration runs.
   */
  readonly duringMigration?: (guest: GuestHandle) => void;
  /** A/B runs: which configuration this is. */
  readonly variant?: 'base' | 'head';
  /** Told each phase as it starts and the copy's share done as the hypervisor reports it (a live progress bar). */
  readonly onProgress?: (live: LiveProgress) => void;
  /**
   * The scenario's chain of samples: the sample migrates the guest the last one left,
   * and leaves its own for the next (ping-pong). Without it the sample boots its own
   * guest and destroys it.
   */
  readonly chain?: GuestChain;
}

/** How a sample begins: with the chain's guest, or booting one at `address`. */
export type SampleStart = { readonly held: HeldGuest } | { readonly freshBecause: string; readonly address: string };

export interface MigrationRun {
  /** The target as this sample sees it: a guest going back runs on the original's destination. */
  readonly target: ConnectedTarget;
  readonly request: RunRequest;
  /** The guest an earlier sample left, which this one migrates instead of booting one. */
  readonly held: HeldGuest | null;
  readonly start: SampleStart;
  readonly log: (line: string) => void;
  readonly vmId: string;
  readonly startedAt: string;
  readonly launch: GuestLaunch;
  /** The guest's address, which the ICMP probe pings. */
  readonly address: string;
  readonly clock: HarnessClock;
  /** How many incidents each of `incidentRunners(target)` had before this run. */
  readonly incidentMarks: readonly number[];
  /** SSH channels each host's runner had opened before this run (null: not an SSH runner). */
  readonly channelMarks: Readonly<Record<Side, number | null>>;
  /** The phase running, or the one that failed: a failed record names it. */
  phase: string;
  error?: unknown;
  environment?: Environment;

  // Started, so torn down.
  guest?: GuestHandle;
  /** The destination being prepared while the source boots. */
  preparing?: Promise<void>;
  readonly taps: Partial<Record<Side, AgentTap>>;
  /** The ICMP probe, kept for the record once stopped. */
  probe?: IcmpProbe;
  /** The ICMP probe until it is stopped. */
  probing?: IcmpProbe;
  flowCounters?: FlowCounters;
  readonly unshape: Array<() => Promise<void>>;

  // Measured.
  bootStartedAtMs: number;
  probeTotals: ProbeTotals | null;
  probeStoppedAtMs: number;
  wireBefore?: InterfaceCounters;
  wireDelta?: InterfaceCounters;
  blocksBefore: number | null;
  blocksAfter: number | null;
  outcome: MigrationOutcome | null;
  flows: FlowBytes | null;
  /** The tap on the side the guest ended up on, if it has an agent. */
  guestTap?: AgentTap;
  /** The probe and the heartbeat came back after the migration. */
  answered: boolean;
  beating: boolean;
  verification: Awaited<ReturnType<AgentTap['verify']>>;
  answering: boolean;
  panicked: boolean;
  consoleFault: string | null;
  hypervisorStatus: string;
  events: HypervisorEvent[] | null;
  readonly warnings: RecordWarning[];
}

/** Where the runner's time goes, phase by phase: the harness overhead, measured on every run. */
export class HarnessClock {
  readonly harnessMs: Record<string, number> = {};
  private readonly startedAt = performance.now();
  private lapStartedAt = this.startedAt;

  lap(key: string): void {
    const now = performance.now();
    this.harnessMs[key] = Math.round((now - this.lapStartedAt) * 10) / 10;
    this.lapStartedAt = now;
  }

  /** The next lap starts now, not when the last one ended. */
  restartLap(): void {
    this.lapStartedAt = performance.now();
  }

  stop(): void {
    this.harnessMs.wallMs = Math.round((performance.now() - this.startedAt) * 10) / 10;
  }
}

/** What the hosts' runners had to do about lost connections during a run goes in its notes. */
export function incidentRunners(target: ConnectedTarget): CommandRunner[] {
  return [target.source.runner, target.destination.runner, target.observer];
}

export function newRun(original: ConnectedTarget, request: RunRequest, log: (line: string) => void, start: SampleStart): MigrationRun {
  const { scenario } = request;
  const held = 'held' in start ? start.held : null;
  const target = held?.target ?? original;
  const vmId = held?.guest.vmId ?? `mb${randomBytes(3).toString('hex')}`;
  const launch: GuestLaunch = held?.guest.launch ?? {
    vmId,
    guest: scenario.guest,
    network: { address: 'address' in start ? start.address : target.guestNetwork.address, mac: guestMac(vmId) },
    agent: agentParameters(scenario.workload, scenario.guest, scenario.probe.heartbeatMs, PATTERN_MIB),
    storage: scenario.migration.kind === 'storage' ? 'local' : 'shared',
  };
  return {
    target,
    request,
    held,
    start,
    log,
    vmId,
    startedAt: new Date().toISOString(),
    launch,
    address: addressOnly(launch.network.address),
    incidentMarks: incidentRunners(target).map((r) => r.incidents?.length ?? 0),
    channelMarks: { source: target.source.runner.channelsOpened ?? null, destination: target.destination.runner.channelsOpened ?? null },
    phase: 'environment',
    taps: {},
    unshape: [],
    bootStartedAtMs: 0,
    probeTotals: null,
    probeStoppedAtMs: 0,
    blocksBefore: null,
    blocksAfter: null,
    outcome: null,
    flows: null,
    answered: false,
    beating: false,
    verification: { memory: null, disk: null },
    answering: false,
    panicked: false,
    consoleFault: null,
    hypervisorStatus: 'unknown',
    events: null,
    warnings: [],
    clock: new HarnessClock(),
  };
}

/** Stops the ICMP probe once: observing stops it, the teardown if observing never did. */
export async function stopProbe(run: MigrationRun): Promise<void> {
  const probe = run.probing;
  if (!probe) return;
  run.probing = undefined;
  run.probeStoppedAtMs = epochMs();
  run.probeTotals = await probe.stop();
}
