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
  RecordWarning,
  WireCounters,
} from './generated/results.js';
import type { MigrationOutcome } from './hypervisor.js';
import type { DiskVerification, Heartbeat, Side, Verification } from './probe/agent.js';
import type { FlowBytes } from './probe/flows.js';
import { analyseGaps, gapAcross } from './probe/gaps.js';
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
  /** Spans in which a tap was not connected (its connection dropped and was made again). */
  readonly tapLosses?: ReadonlyArray<{ readonly side: Side; readonly lostAtMs: number; readonly backAtMs: number | null }>;
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
  /** A disk verification pass that began after the migration; null when the guest has no disk data or did not report. */
  readonly diskVerification: DiskVerification | null;
  /** The guest was given disk data to check. */
  readonly hasDisk: boolean;
  /** Disk writes the guest saw fail. */
  readonly diskWriteErrors: number;
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
  /** Per-flow wire bytes (memory stream, disk copy), when they could be counted. */
  readonly flows: FlowBytes | null;
  /** Link shaping in force. */
  readonly link: { readonly interface: string; readonly bandwidthMbps: number | null; readonly delayMs: number | null } | null;
  /** 4 KiB disk blocks the guest wrote during the migration (storage migration). */
  readonly guestBlocksWritten: number | null;
  /** Matrix axis labels of the scenario, by axis path. */
  readonly axes: Readonly<Record<string, string>> | null;
  readonly integrity: IntegrityData;
  readonly environment: Environment;
  /** Workarounds of known hypervisor bugs that shaped this run. */
  readonly workarounds: readonly string[];
  /** The first error of the run (a failed migration's own error comes from the outcome). */
  readonly error: unknown;
  readonly phase: string;
  /** Runner wall time per engine phase (MigrationRecord.harnessMs). */
  readonly harnessMs?: Readonly<Record<string, number>>;
  /** What the runners did about lost connections during the run, in words. */
  readonly incidents?: readonly string[];
  /** Teardown steps that failed after the measurement (MigrationRecord.warnings). */
  readonly warnings?: readonly RecordWarning[];
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
  const badBlocks = i.diskVerification ? i.diskVerification.badBlocks : null;
  if (badBlocks) problems.push(`${badBlocks} disk blocks do not read back as written`);
  if (i.diskWriteErrors) problems.push(`${i.diskWriteErrors} disk writes failed in the guest`);
  if (i.hasAgent && i.hasDisk && !i.diskVerification && !i.restarted && i.answering) problems.push('the agent did not report a disk verification pass');
  const guestAlive = i.answering && !i.restarted && !i.panicked && i.hypervisorStatus === 'running';
  return {
    location: i.location,
    guestAlive,
    restarted: i.restarted,
    // A restarted guest rebuilt its pattern from scratch: its memory says nothing about the migration.
    memoryIntact: !i.hasAgent ? null : i.restarted || i.panicked ? false : i.verification ? badPages === 0 : null,
    pagesChecked: i.verification?.pagesChecked ?? null,
    badPages,
    diskIntact: !i.hasAgent || !i.hasDisk ? null : i.restarted || i.panicked ? false : i.diskVerification ? badBlocks === 0 && i.diskWriteErrors === 0 : null,
    blocksChecked: i.diskVerification?.blocksChecked ?? null,
    badBlocks,
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

  // The switchover: the source's first STOP at or after the migrate command.
  const stopEvent = outcome?.events.find((e) => e.side === 'source' && e.name === 'STOP' && e.tMs >= -1);
  const switchoverAtMs = origin !== null && stopEvent ? origin + stopEvent.tMs : null;
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
  const notes: string[] = [];
  if (parts.heartbeat && origin !== null) {
    const h = parts.heartbeat;
    const analysis = analyseGaps(h.beats, { originMs: origin, observedToMs: h.stoppedAtMs, thresholdMs: h.gapThresholdMs });
    // Heartbeats missed while a tap was away are a gap in the tap, not a pause of the guest.
    const blind = (h.tapLosses ?? []).filter((l) => (l.backAtMs ?? Infinity) >= origin && l.lostAtMs <= h.stoppedAtMs);
    guestPauseMs = blind.length ? null : analysis.largestGapMs;
    for (const l of blind) notes.push(`guest pause not measured: the ${l.side} agent tap was disconnected ${fmtMs(l.lostAtMs - origin)}–${l.backAtMs === null ? 'end' : fmtMs(l.backAtMs - origin)} after the migrate command`);
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
    wallTimeMs: outcome ? Math.round((outcome.endedAtMs - (outcome.storage?.mirrorStartedAtMs ?? outcome.startedAtMs)) * 1000) / 1000 : null,
    downtimeMs: f?.downtimeMs ?? null,
    downtimeNetMs: f?.downtimeNetMs ?? null,
    observedDowntimeMs,
    guestPauseMs,
    setupTimeMs: f?.setupTimeMs ?? null,
    transferredBytes: f?.transferredBytes ?? null,
    wireBytes: wire ? wire.txBytes + wire.rxBytes : null,
    iterations: f?.iterations ?? null,
    dirtyRatePagesPerSec: f?.dirtyRatePagesPerSec ?? null,
    stopToResumeMs: f?.stopToResumeMs ?? null,
    mirrorTimeMs: f?.mirrorTimeMs ?? null,
    diskBytes: f?.diskBytes ?? null,
    wireRamBytes: parts.flows?.ram ?? null,
    wireDiskBytes: scenario.migration.kind === 'storage' ? (parts.flows?.disk ?? null) : null,
    observedSwitchoverMs: parts.probe && switchoverAtMs !== null && outcome?.status === 'completed' ? gapAcross(parts.probe.replies, switchoverAtMs) : null,
    guestSwitchoverPauseMs: parts.heartbeat && switchoverAtMs !== null && outcome?.status === 'completed' ? gapAcross(parts.heartbeat.beats, switchoverAtMs) : null,
  };
  const sourceOf: Record<keyof Metrics, MetricSources[string]> = {
    totalTimeMs: 'hypervisor',
    wallTimeMs: 'runner',
    downtimeMs: 'hypervisor',
    downtimeNetMs: 'hypervisor',
    observedDowntimeMs: 'probe',
    guestPauseMs: 'guest',
    setupTimeMs: 'hypervisor',
    transferredBytes: 'hypervisor',
    wireBytes: 'wire',
    iterations: 'hypervisor',
    dirtyRatePagesPerSec: 'hypervisor',
    stopToResumeMs: 'hypervisor',
    mirrorTimeMs: 'hypervisor',
    diskBytes: 'hypervisor',
    wireRamBytes: 'wire',
    wireDiskBytes: 'wire',
    observedSwitchoverMs: 'probe',
    guestSwitchoverPauseMs: 'guest',
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
    guest: { memoryMiB: scenario.guest.memoryMiB, vcpus: scenario.guest.vcpus, diskMiB: scenario.guest.diskMiB, diskDataMiB: scenario.guest.diskDataMiB },
    workload: {
      memory: scenario.workload.memory ? { ...scenario.workload.memory } : null,
      disk: scenario.workload.disk ? { ...scenario.workload.disk } : null,
      cpu: scenario.workload.cpu ? { ...scenario.workload.cpu } : null,
    },
    axes: parts.axes ? { ...parts.axes } : null,
    link: parts.link ? { ...parts.link } : null,
    storage: outcome?.storage
      ? {
          mirrorStartMs: Math.round((outcome.storage.mirrorStartedAtMs - outcome.startedAtMs) * 1000) / 1000,
          mirrorReadyMs: outcome.storage.mirrorReadyAtMs === null ? null : Math.round((outcome.storage.mirrorReadyAtMs - outcome.startedAtMs) * 1000) / 1000,
          jobLenBytes: outcome.storage.jobLenBytes,
          jobOffsetBytes: outcome.storage.jobOffsetBytes,
          cancelMs: outcome.storage.cancelMs,
          guestBlocksWritten: parts.guestBlocksWritten,
        }
      : null,
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
    ...((notes.length || parts.incidents?.length) && { notes: [...notes, ...(parts.incidents ?? [])] }),
    ...(parts.warnings?.length && { warnings: parts.warnings.map((w) => ({ ...w })) }),
    ...(parts.harnessMs && { harnessMs: { ...parts.harnessMs } }),
  };
}

const fmtMs = (ms: number) => `${Math.round(ms)} ms`;
