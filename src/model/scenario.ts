// A scenario: what to migrate (guest, workload), how (migration kind and hypervisor
// knobs), how to observe it (probe) and what it must achieve (thresholds).
import type { ProbeSettings, Thresholds } from '../generated/config.js';
import type { GuestSpec } from './hardware.js';

export interface MemoryWorkload {
  readonly workingSetMiB: number;
  /** 10^6 bytes per second. */
  readonly dirtyRateMBps: number;
  readonly pattern: 'sequential' | 'random';
}

export interface DiskWorkload {
  /** Part of the disk's data region the guest rewrites. */
  readonly workingSetMiB: number;
  /** 10^6 bytes per second. */
  readonly writeRateMBps: number;
}

/** What the guest agent does; parts combine, none is an idle guest. */
export interface WorkloadSpec {
  readonly memory: MemoryWorkload | null;
  readonly disk: DiskWorkload | null;
  readonly cpu: { readonly threads: number } | null;
}

/** Shaping of the migration link (embedded lab only). */
export interface LinkSpec {
  /** 10^6 bits per second. */
  readonly bandwidthMbps?: number;
  readonly delayMs?: number;
}

/** Hypervisor knobs; an unset knob keeps the hypervisor's default (recorded as in force). */
export interface MigrationKnobs {
  readonly downtimeLimitMs?: number;
  readonly maxBandwidthMiBps?: number;
  readonly multifdChannels?: number;
  readonly autoConverge?: boolean;
  readonly xbzrleCacheMiB?: number;
  /** Switch to postcopy this long after the start (postcopy-ram enabled on both sides). */
  readonly postcopyAfterMs?: number;
}

export type MigrationKind = 'memory' | 'storage';

export interface MigrationSpec extends MigrationKnobs {
  readonly kind: MigrationKind;
  readonly timeoutMs: number;
}

export type ProbeSpec = Required<ProbeSettings>;

/**
 * Samples one booted guest gives by default: one, a fresh boot per sample. Samples of one
 * boot share its offset. In the benches of 2026-12-07 about one idle-256 boot in four (7 of
 * 20 fresh boots) reported 20-50 ms of downtime against 4-8 ms, sending up to 1.4 % fewer
 * bytes; a kept guest of that kind did so in every sample it gave, and an A/A gate with two
 * boots of five samples a side failed on one (stop→resume +46 %, adjusted p 0.059). The
 * comparison counts samples, not boots, so reusing a guest is opt-in until it counts boots.
 */
export const DEFAULT_SAMPLES_PER_BOOT = 1;

export const DEFAULT_PROBE: ProbeSpec = {
  tool: 'migbench-probe',
  intervalMs: 2,
  gapThresholdMs: 20,
  leadInMs: 1000,
  settleTimeoutMs: 15000,
  heartbeatMs: 1,
  observeAfterMs: 2000,
  steadyReplies: 150,
};

export interface Scenario {
  readonly suite: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly target: string;
  readonly guest: GuestSpec;
  readonly workload: WorkloadSpec;
  readonly migration: MigrationSpec;
  readonly link: LinkSpec | null;
  readonly probe: ProbeSpec;
  readonly thresholds: Thresholds;
  readonly repeat: number;
  /** Every repetition boots its own guest, rather than migrating the previous one back. */
  readonly fresh: boolean;
  /** Samples one booted guest gives before a fresh one boots. */
  readonly samplesPerBoot: number;
  readonly bootTimeoutMs: number;
  /** What its measurements depend on, as a key (config/scenarios.ts scenarioFingerprint); records carry it. */
  readonly fingerprint?: string;
}

export const IDLE: WorkloadSpec = { memory: null, disk: null, cpu: null };

export function isIdle(workload: WorkloadSpec): boolean {
  return !workload.memory?.dirtyRateMBps && !workload.disk?.writeRateMBps && !workload.cpu;
}

/** The guest kernel command line parameters that configure the agent. */
export function agentParameters(workload: WorkloadSpec, guest: GuestSpec, heartbeatMs: number, patternMiB: number): Record<string, string> {
  const { memory, disk, cpu } = workload;
  return {
    hb_ms: String(heartbeatMs),
    ws_mib: String(memory?.workingSetMiB ?? 0),
    dirty_mbps: String(memory?.dirtyRateMBps ?? 0),
    pattern: memory?.pattern === 'random' ? 'random' : 'seq',
    pattern_mib: String(patternMiB),
    disk_mib: String(guest.diskDataMiB),
    disk_ws_mib: String(disk?.workingSetMiB ?? 0),
    disk_mbps: String(disk?.writeRateMBps ?? 0),
    cpu_threads: String(cpu?.threads ?? 0),
  };
}
