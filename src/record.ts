// Builds one migration record from what was measured. Pure: everything it needs is
// passed in, so records can be rebuilt and tested from recorded probe and agent output.
import { errorMessage, MigbenchError, type CommandError } from './errors.js';
import type {
  Environment,
  HeartbeatSummary,
  HypervisorKind,
  Integrity,
  MetricSources,
  Metrics,
  MigrationRecord,
  ProbeSummary,
  RecordError,
  WireCounters,
} from './generated/results.js';
import type { MigrationOutcome } from './hypervisor.js';
import type { Heartbeat, Side, Verification } from './probe/agent.js';
import { analyseGaps } from './probe/gaps.js';
import type { ProbeReply, ProbeTotals, ProbeTool } from './probe/icmp.js';
import type { InterfaceCounters } from './probe/wire.js';
import type { Scenario } from './scenario.js';

export interface ProbeData {
  readonly tool: ProbeTool;
  readonly address: string;
  readonly intervalMs: number;
  readonly gapThresholdMs: number;
  readonly replies: readonly ProbeReply[];
  readonly totals: ProbeTotals | null;
  /** When probing stopped, ms since the epoch. */
  readonly stoppedAtMs: number;
}

export interface HeartbeatData {
  readonly periodMs: number;
  readonly gapThresholdMs: number;
  /** Heartbeats from both hosts' taps. */
  readonly beats: readonly Heartbeat[];
  readonly stoppedAtMs: number;
}

export interface IntegrityData {
  readonly location: Side;
  /** Probe replies and heartbeats came back after the migration and kept coming. */
  readonly answering: boolean;
  readonly restarted: boolean;
  readonly panicked: boolean;
  /** The hypervisor's state of the guest at the end (running, paused, guest-panicked, ...). */
  readonly hypervisorStatus: string;
  /** A verification pass that began after the migration, on the guest's location; null without an agent. */
  readonly verification: Verification | null;
  /** Pages the dirtier found damaged before rewriting them. */
  readonly dirtierBadPages: number;
  readonly hasAgent: boolean;
}

export interface RecordParts {
  readonly id: string;
  readonly suite: string;
  readonly test: string;
  readonly scenario: Scenario;
  readonly repetition: number;
  readonly hypervisor: HypervisorKind;
  readonly startedAt: string;
  readonly outcome: MigrationOutcome | null;
  readonly probe: ProbeData | null;
  readonly heartbeat: HeartbeatData | null;
  readonly wire: { readonly host: string; readonly interface: string; readonly delta: InterfaceCounters } | null;
  readonly integrity: IntegrityData;
  readonly environment: Environment;
  /** Workarounds of known hypervisor bugs that shaped this run. */
  readonly workarounds: readonly string[];
  /** The first error of the run (a failed migration's own error comes from the outcome). */
  readonly error: unknown;
  readonly phase: string;
}

export function buildIntegrity(i: IntegrityData): Integrity {
  const badPages = i.verification ? i.verification.badPages + i.dirtierBadPages : null;
  const problems: string[] = [];
  if (i.panicked) problems.push(`guest kernel panicked on the ${i.location}`);
  if (i.restarted) problems.push('guest restarted: its agent started again, so the migrated instance is gone');
  if (!i.answering) problems.push(`guest stopped answering on the ${i.location} (probe or heartbeat silent)`);
  if (i.hypervisorStatus !== 'running' && !i.panicked) problems.push(`hypervisor reports the guest as ${i.hypervisorStatus}`);
  if (badPages) problems.push(`${badPages} damaged memory pages`);
  if (i.hasAgent && !i.verification && !i.restarted && i.answering) problems.push('the agent did not report a verification pass');
  const guestAlive = i.answering && !i.restarted && !i.panicked && i.hypervisorStatus === 'running';
  return {
    location: i.location,
    guestAlive,
    restarted: i.restarted,
    // A restarted guest rebuilt its pattern from scratch: its memory says nothing about the migration.
    memoryIntact: !i.hasAgent ? null : i.restarted || i.panicked ? false : i.verification ? badPages === 0 : null,
    pagesChecked: i.verification?.pagesChecked ?? null,
    badPages,
    problem: problems.length ? problems.join('; ') : null,
  };
}

function recordError(error: unknown, phase: string): RecordError {
  if (error instanceof MigbenchError) {
    const ctx = error.context;
    const command = (error as Partial<CommandError>).argv ? String(ctx.command ?? '') : typeof ctx.qmpCommand === 'string' ? `QMP ${ctx.qmpCommand}` : '';
    return {
      code: error.code,
      message: error.message,
      phase,
      ...(typeof ctx.host === 'string' && { host: ctx.host }),
      ...(command && { command }),
    };
  }
  return { code: 'MB_INTERNAL', message: errorMessage(error), phase };
}

export function buildRecord(parts: RecordParts): MigrationRecord {
  const { outcome, scenario } = parts;
  const origin = outcome?.startedAtMs ?? null;

  let probe: ProbeSummary | null = null;
  let observedDowntimeMs: number | null = null;
  if (parts.probe && origin !== null) {
    const p = parts.probe;
    const analysis = analyseGaps(p.replies, { originMs: origin, observedToMs: p.stoppedAtMs, thresholdMs: p.gapThresholdMs });
    observedDowntimeMs = analysis.largestGapMs;
    const sent = p.totals?.sent ?? 0;
    const received = p.totals?.received ?? p.replies.length;
    probe = {
      tool: p.tool,
      target: p.address,
      intervalMs: p.intervalMs,
      sent,
      received,
      lossCount: Math.max(0, sent - received),
      gapThresholdMs: p.gapThresholdMs,
      largestGapMs: analysis.largestGapMs,
      baselineLargestGapMs: analysis.baselineLargestGapMs,
      gaps: analysis.gaps,
    };
  }

  let heartbeat: HeartbeatSummary | null = null;
  let guestPauseMs: number | null = null;
  if (parts.heartbeat && origin !== null) {
    const h = parts.heartbeat;
    const analysis = analyseGaps(h.beats, { originMs: origin, observedToMs: h.stoppedAtMs, thresholdMs: h.gapThresholdMs });
    guestPauseMs = analysis.largestGapMs;
    const pair = analysis.largestPair;
    heartbeat = {
      periodMs: h.periodMs,
      received: h.beats.length,
      largestGapMs: analysis.largestGapMs,
      guestClockGapMs: pair ? Math.round((pair[1].guestUs - pair[0].guestUs) / 1000 * 1000) / 1000 : null,
      gapThresholdMs: h.gapThresholdMs,
      gaps: analysis.gaps,
    };
  }

  const wire: WireCounters | null = parts.wire
    ? { host: parts.wire.host, interface: parts.wire.interface, txBytes: parts.wire.delta.txBytes, rxBytes: parts.wire.delta.rxBytes, txPackets: parts.wire.delta.txPackets, rxPackets: parts.wire.delta.rxPackets }
    : null;

  const f = outcome?.figures;
  const metrics: Metrics = {
    totalTimeMs: f?.totalTimeMs ?? null,
    wallTimeMs: outcome ? Math.round((outcome.endedAtMs - outcome.startedAtMs) * 1000) / 1000 : null,
    downtimeMs: f?.downtimeMs ?? null,
    observedDowntimeMs,
    guestPauseMs,
    setupTimeMs: f?.setupTimeMs ?? null,
    transferredBytes: f?.transferredBytes ?? null,
    wireBytes: wire ? wire.txBytes + wire.rxBytes : null,
    iterations: f?.iterations ?? null,
    dirtyRatePagesPerSec: f?.dirtyRatePagesPerSec ?? null,
    stopToResumeMs: f?.stopToResumeMs ?? null,
  };
  const sourceOf: Record<keyof Metrics, MetricSources[string]> = {
    totalTimeMs: 'hypervisor',
    wallTimeMs: 'runner',
    downtimeMs: 'hypervisor',
    observedDowntimeMs: 'probe',
    guestPauseMs: 'guest',
    setupTimeMs: 'hypervisor',
    transferredBytes: 'hypervisor',
    wireBytes: 'wire',
    iterations: 'hypervisor',
    dirtyRatePagesPerSec: 'hypervisor',
    stopToResumeMs: 'hypervisor',
  };
  const metricSources: MetricSources = {};
  for (const key of Object.keys(metrics) as Array<keyof Metrics>) if (metrics[key] !== null) metricSources[key] = sourceOf[key];

  const integrity = buildIntegrity(parts.integrity);

  const firstError = parts.error ?? outcome?.error ?? null;
  const status = parts.error ? 'failed' : (outcome?.status ?? 'failed');
  return {
    id: parts.id,
    suite: parts.suite,
    test: parts.test,
    scenario: scenario.name,
    repetition: parts.repetition,
    target: scenario.target,
    hypervisor: parts.hypervisor,
    kind: scenario.migration.kind,
    startedAt: parts.startedAt,
    status,
    error: firstError ? recordError(firstError, parts.error ? parts.phase : 'migrate') : status === 'completed' ? null : { code: 'MB_MIGRATION', message: `migration ${status}`, phase: 'migrate' },
    guest: { memoryMiB: scenario.guest.memoryMiB, vcpus: scenario.guest.vcpus },
    workload: { kind: scenario.workload.kind, workingSetMiB: scenario.workload.workingSetMiB, dirtyRateMBps: scenario.workload.dirtyRateMBps, pattern: scenario.workload.pattern },
    metrics,
    metricSources,
    probe,
    heartbeat,
    wire,
    parameters: outcome?.parameters ?? {},
    capabilities: outcome?.capabilities ?? [],
    timeline: outcome?.timeline ?? [],
    events: outcome?.events ?? [],
    integrity,
    environment: parts.environment,
    workarounds: [...parts.workarounds],
  };
}
