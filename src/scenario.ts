// A scenario: what to migrate (guest, workload), how (migration kind and hypervisor
// knobs), how to observe it (probe) and what it must achieve (thresholds).
import type { ProbeSettings, Thresholds } from './generated/config.js';
import type { GuestSpec } from './hardware.js';

export interface WorkloadSpec {
  readonly kind: 'idle' | 'memory';
  readonly workingSetMiB: number;
  /** 10^6 bytes per second. */
  readonly dirtyRateMBps: number;
  readonly pattern: 'sequential' | 'random';
}

/** Hypervisor knobs; an unset knob keeps the hypervisor's default (recorded as in force). */
export interface MigrationKnobs {
  readonly downtimeLimitMs?: number;
  readonly maxBandwidthMiBps?: number;
  readonly multifdChannels?: number;
  readonly autoConverge?: boolean;
  readonly xbzrleCacheMiB?: number;
}

export interface MigrationSpec extends MigrationKnobs {
  readonly kind: 'memory';
  readonly timeoutMs: number;
}

export type ProbeSpec = Required<ProbeSettings>;

export const DEFAULT_PROBE: ProbeSpec = {
  tool: 'migbench-probe',
  intervalMs: 2,
  gapThresholdMs: 20,
  leadInMs: 1000,
  settleTimeoutMs: 15000,
  heartbeatMs: 1,
  observeAfterMs: 2000,
};

export interface Scenario {
  readonly suite: string;
  readonly name: string;
  readonly description: string | undefined;
  readonly target: string;
  readonly guest: GuestSpec;
  readonly workload: WorkloadSpec;
  readonly migration: MigrationSpec;
  readonly probe: ProbeSpec;
  readonly thresholds: Thresholds;
  readonly repeat: number;
  readonly bootTimeoutMs: number;
}

export const IDLE: WorkloadSpec = { kind: 'idle', workingSetMiB: 0, dirtyRateMBps: 0, pattern: 'sequential' };

/** The guest kernel command line parameters that configure the agent. */
export function agentParameters(workload: WorkloadSpec, heartbeatMs: number, patternMiB: number): Record<string, string> {
  return {
    hb_ms: String(heartbeatMs),
    ws_mib: String(workload.workingSetMiB),
    dirty_mbps: String(workload.dirtyRateMBps),
    pattern: workload.pattern === 'random' ? 'random' : 'seq',
    pattern_mib: String(patternMiB),
  };
}
