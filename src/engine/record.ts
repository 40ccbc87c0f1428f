// Builds one migration record from what was measured. Pure: everything it needs is
// passed in, so records can be rebuilt and tested from recorded probe and agent output.
import type { MachineTuning } from '../model/tuning.js';
import { errorMessage, MigbenchError, type CommandError } from '../model/errors.js';
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
} from '../generated/results.js';
import type { MigrationOutcome } from '../hypervisors/hypervisor.js';
import type { DiskVerification, Heartbeat, Verification } from '../probes/agent.js';
import type { FlowBytes } from '../probes/flows.js';
import { analyseGaps, gapAcross } from '../probes/gaps.js';
import type { ProbeReply, ProbeTotals, ProbeTool } from '../probes/icmp.js';
import type { InterfaceCounters } from '../probes/wire.js';
import type { Scenario } from '../model/scenario.js';
import type { Side } from '../model/side.js';

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
  /** The first line of the guest's console that shows it failing, where the guest was lost (probes/console.ts). */
  readonly consoleFault: string | null;
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
  /** What the target added to the guest's machine (none: absent). */
  readonly machineTuning?: MachineTuning;
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

/** " (first: page 1234)", or nothing when the agent named none. */
const firstNamed = (what: string, index: number | null) => (index === null ? '' : ` (first: ${what} ${index})`);

export function buildIntegrity(i: IntegrityData): Integrity {
  const badPages = i.verification ? i.verification.badPages + i.dirtierBadPages : null;
  const problems: string[] = [];
  if (i.panicked) problems.push(`guest kernel panicked on the ${i.location}`);
  if (i.restarted) problems.push('guest restarted: its agent started again, so the migrated instance is gone');
  if (!i.answering) problems.push(`guest stopped answering on the ${i.location} (probe or heartbeat silent)`);
  if (i.hypervisorStatus !== 'running' && !i.panicked) problems.push(`hypervisor reports the guest as ${i.hypervisorStatus}`);
  if (i.consoleFault) problems.push(`its console on the ${i.location}: "${i.consoleFault}"`);
  const firstBadPage = i.verification?.firstBadPage ?? null;
  if (badPages) problems.push(`${badPages} damaged memory pages${firstNamed('page', firstBadPage)}`);
  if (i.hasAgent && !i.verification && !i.restarted && i.answering) problems.push('the agent did not report a verification pass');
  const badBlocks = i.diskVerification ? i.diskVerification.badBlocks : null;
  const firstBadBlock = i.diskVerification?.firstBadBlock ?? null;
  if (badBlocks) problems.push(`${badBlocks} disk blocks do not read back as written${firstNamed('block', firstBadBlock)}`);
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
    ...(firstBadPage !== null && { firstBadPage }),
    diskIntact: !i.hasAgent || !i.hasDisk ? null : i.restarted || i.panicked ? false : i.diskVerification ? badBlocks === 0 && i.diskWriteErrors === 0 : null,
    blocksChecked: i.diskVerification?.blocksChecked ?? null,
    badBlocks,
    ...(firstBadBlock !== null && { firstBadBlock }),
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
  const probe = probeSection(parts.probe, origin);
  const heartbeat = heartbeatSection(parts.heartbeat, origin);
  const wire = wireSection(parts.wire);
  const metrics = metricsOf(parts, { observedDowntimeMs: probe.observedDowntimeMs, guestPauseMs: heartbeat.guestPauseMs, wire });
  const { status, error } = statusOf(parts);
  return {
    id: parts.id,
    suite: parts.suite,
    test: parts.test,
    scenario: scenario.name,
    ...(scenario.fingerprint && { scenarioFingerprint: scenario.fingerprint }),
    repetition: parts.repetition,
    target: scenario.target,
    hypervisor: parts.hypervisor,
    kind: scenario.migration.kind,
    startedAt: parts.startedAt,
    status,
    error,
    guest: {
      memoryMiB: scenario.guest.memoryMiB,
      vcpus: scenario.guest.vcpus,
      diskMiB: scenario.guest.diskMiB,
      diskDataMiB: scenario.guest.diskDataMiB,
      ...(parts.machineTuning?.qemuArgs && { qemuArgs: [...parts.machineTuning.qemuArgs] }),
      ...(parts.machineTuning?.domainXml && { domainXml: parts.machineTuning.domainXml }),
      ...(parts.machineTuning?.cpus && { cpus: { ...parts.machineTuning.cpus } }),
    },
    workload: workloadSection(scenario),
    axes: parts.axes ? { ...parts.axes } : null,
    link: parts.link ? { ...parts.link } : null,
    storage: storageSection(outcome, parts.guestBlocksWritten),
    metrics,
    metricSources: metricSourcesOf(metrics),
    probe: probe.summary,
    heartbeat: heartbeat.summary,
    wire,
    parameters: outcome?.parameters ?? {},
    capabilities: outcome?.capabilities ?? [],
    timeline: outcome?.timeline ?? [],
    events: outcome?.events ?? [],
    integrity: buildIntegrity(parts.integrity),
    environment: parts.environment,
    workarounds: [...parts.workarounds],
    ...((heartbeat.notes.length || parts.incidents?.length) && { notes: [...heartbeat.notes, ...(parts.incidents ?? [])] }),
    ...(parts.warnings?.length && { warnings: parts.warnings.map((w) => ({ ...w })) }),
    ...(parts.harnessMs && { harnessMs: { ...parts.harnessMs } }),
  };
}

/** A failure of the run outranks the migration's own: the run's error names its phase. */
function statusOf(parts: RecordParts): { status: MigrationRecord['status']; error: RecordError | null } {
  const { outcome } = parts;
  const firstError = parts.error ?? outcome?.error ?? null;
  const status = parts.error ? 'failed' : (outcome?.status ?? 'failed');
  if (firstError) return { status, error: recordError(firstError, parts.error ? parts.phase : 'migrate') };
  return { status, error: status === 'completed' ? null : { code: 'MB_MIGRATION', message: `migration ${status}`, phase: 'migrate' } };
}

function probeSection(p: ProbeData | null, origin: number | null): { summary: ProbeSummary | null; observedDowntimeMs: number | null } {
  if (!p || origin === null) return { summary: null, observedDowntimeMs: null };
  const analysis = analyseGaps(p.replies, { originMs: origin, observedToMs: p.stoppedAtMs, thresholdMs: p.gapThresholdMs });
  const sent = p.totals?.sent ?? 0;
  const received = p.totals?.received ?? p.replies.length;
  const summary: ProbeSummary = {
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
  return { summary, observedDowntimeMs: analysis.largestGapMs };
}

function heartbeatSection(h: HeartbeatData | null, origin: number | null): { summary: HeartbeatSummary | null; guestPauseMs: number | null; notes: string[] } {
  if (!h || origin === null) return { summary: null, guestPauseMs: null, notes: [] };
  const analysis = analyseGaps(h.beats, { originMs: origin, observedToMs: h.stoppedAtMs, thresholdMs: h.gapThresholdMs });
  // Heartbeats missed while a tap was away are a gap in the tap, not a pause of the guest.
  const blind = (h.tapLosses ?? []).filter((l) => (l.backAtMs ?? Infinity) >= origin && l.lostAtMs <= h.stoppedAtMs);
  const notes = blind.map(
    (l) =>
      `guest pause not measured: the ${l.side} agent tap was disconnected ${fmtMs(l.lostAtMs - origin)}–${l.backAtMs === null ? 'end' : fmtMs(l.backAtMs - origin)} after the migrate command`,
  );
  const pair = analysis.largestPair;
  const summary: HeartbeatSummary = {
    periodMs: h.periodMs,
    received: h.beats.length,
    largestGapMs: analysis.largestGapMs,
    guestClockGapMs: pair ? Math.round(((pair[1].guestUs - pair[0].guestUs) / 1000) * 1000) / 1000 : null,
    gapThresholdMs: h.gapThresholdMs,
    gaps: analysis.gaps,
  };
  return { summary, guestPauseMs: blind.length ? null : analysis.largestGapMs, notes };
}

function wireSection(w: RecordParts['wire']): WireCounters | null {
  return w ? { host: w.host, interface: w.interface, txBytes: w.delta.txBytes, rxBytes: w.delta.rxBytes, txPackets: w.delta.txPackets, rxPackets: w.delta.rxPackets } : null;
}

/** The switchover: the source's first STOP at or after the migrate command. */
function switchoverAt(outcome: MigrationOutcome | null): number | null {
  const stopEvent = outcome?.events.find((e) => e.side === 'source' && e.name === 'STOP' && e.tMs >= -1);
  return outcome && stopEvent ? outcome.startedAtMs + stopEvent.tMs : null;
}

function metricsOf(parts: RecordParts, measured: { observedDowntimeMs: number | null; guestPauseMs: number | null; wire: WireCounters | null }): Metrics {
  const { outcome, scenario } = parts;
  const f = outcome?.figures;
  const switchoverAtMs = switchoverAt(outcome);
  const completed = switchoverAtMs !== null && outcome?.status === 'completed';
  return {
    totalTimeMs: f?.totalTimeMs ?? null,
    wallTimeMs: outcome ? Math.round((outcome.endedAtMs - (outcome.storage?.mirrorStartedAtMs ?? outcome.startedAtMs)) * 1000) / 1000 : null,
    downtimeMs: f?.downtimeMs ?? null,
    downtimeNetMs: f?.downtimeNetMs ?? null,
    observedDowntimeMs: measured.observedDowntimeMs,
    guestPauseMs: measured.guestPauseMs,
    setupTimeMs: f?.setupTimeMs ?? null,
    transferredBytes: f?.transferredBytes ?? null,
    wireBytes: measured.wire ? measured.wire.txBytes + measured.wire.rxBytes : null,
    iterations: f?.iterations ?? null,
    dirtyRatePagesPerSec: f?.dirtyRatePagesPerSec ?? null,
    stopToResumeMs: f?.stopToResumeMs ?? null,
    mirrorTimeMs: f?.mirrorTimeMs ?? null,
    diskBytes: f?.diskBytes ?? null,
    wireRamBytes: parts.flows?.ram ?? null,
    wireDiskBytes: scenario.migration.kind === 'storage' ? (parts.flows?.disk ?? null) : null,
    observedSwitchoverMs: parts.probe && completed ? gapAcross(parts.probe.replies, switchoverAtMs) : null,
    guestSwitchoverPauseMs: parts.heartbeat && completed ? gapAcross(parts.heartbeat.beats, switchoverAtMs) : null,
  };
}

const SOURCE_OF: Record<keyof Metrics, MetricSources[string]> = {
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

/** Where each metric that has a value came from. */
function metricSourcesOf(metrics: Metrics): MetricSources {
  const metricSources: MetricSources = {};
  for (const key of Object.keys(metrics) as Array<keyof Metrics>) if (metrics[key] !== null) metricSources[key] = SOURCE_OF[key];
  return metricSources;
}

function workloadSection(scenario: Scenario): MigrationRecord['workload'] {
  return {
    memory: scenario.workload.memory ? { ...scenario.workload.memory } : null,
    disk: scenario.workload.disk ? { ...scenario.workload.disk } : null,
    cpu: scenario.workload.cpu ? { ...scenario.workload.cpu } : null,
  };
}

function storageSection(outcome: MigrationOutcome | null, guestBlocksWritten: number | null): MigrationRecord['storage'] {
  if (!outcome?.storage) return null;
  const { storage, startedAtMs } = outcome;
  return {
    mirrorStartMs: Math.round((storage.mirrorStartedAtMs - startedAtMs) * 1000) / 1000,
    mirrorReadyMs: storage.mirrorReadyAtMs === null ? null : Math.round((storage.mirrorReadyAtMs - startedAtMs) * 1000) / 1000,
    jobLenBytes: storage.jobLenBytes,
    jobOffsetBytes: storage.jobOffsetBytes,
    cancelMs: storage.cancelMs,
    guestBlocksWritten,
  };
}

const fmtMs = (ms: number) => `${Math.round(ms)} ms`;
