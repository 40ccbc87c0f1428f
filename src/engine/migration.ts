// Runs one migration end to end and returns its record: boot the guest, start the
// probes (ICMP from the observer, the agent's heartbeat on both hosts, the migration
// link's counters), migrate, wait for the guest to answer again, verify its memory,
// tear down. Whatever fails, a record comes back and the guest is stopped.
import { errorMessage } from '../model/errors.js';
import type { Environment, MigrationRecord } from '../generated/results.js';
import type { Side } from '../model/side.js';
import { epochMs } from '../model/time.js';
import { gitSha, MIGBENCH_VERSION } from '../model/version.js';
import { tearDown } from './cleanup.js';
import { MIGRATION_STEPS } from './phases.js';
import { buildRecord, type HeartbeatData, type IntegrityData, type ProbeData } from './record.js';
import { incidentRunners, newRun, type MigrationRun, type RunRequest } from './run.js';
import type { ConnectedTarget } from './target.js';

export type { RunRequest } from './run.js';
export { targetEnvironment } from './phases.js';

export async function runMigration(target: ConnectedTarget, request: RunRequest, log: (line: string) => void = () => undefined): Promise<MigrationRecord> {
  const run = newRun(target, request, log);
  try {
    for (const [phase, step] of MIGRATION_STEPS) {
      run.phase = phase;
      request.onProgress?.({ phase, percent: null });
      await step(run);
    }
  } catch (caught) {
    run.error = caught;
    log(`${run.vmId}: ${run.phase} failed: ${errorMessage(caught)}`);
  } finally {
    await tearDown(run);
  }
  return recordOf(run);
}

function recordOf(run: MigrationRun): MigrationRecord {
  const { target, request, outcome, events, guest } = run;
  const { scenario } = request;
  const heartbeat = heartbeatData(run);
  const probe = probeData(run);
  const record = buildRecord({
    id: run.vmId,
    suite: request.suite,
    test: request.test,
    scenario,
    repetition: request.repetition,
    hypervisor: target.hypervisor.kind,
    machineTuning: target.machineTuning,
    startedAt: run.startedAt,
    outcome: outcome && events ? { ...outcome, events } : outcome,
    probe,
    heartbeat,
    wire: run.wireDelta ? { host: target.source.runner.host, interface: target.source.migrationInterface, delta: run.wireDelta } : null,
    integrity: integrityData(run),
    flows: run.flows,
    link: scenario.link ? { interface: target.source.migrationInterface, bandwidthMbps: scenario.link.bandwidthMbps ?? null, delayMs: scenario.link.delayMs ?? null } : null,
    guestBlocksWritten: run.blocksBefore !== null && run.blocksAfter !== null ? run.blocksAfter - run.blocksBefore : null,
    axes: request.axes ?? null,
    environment: run.environment ?? unknownEnvironment(),
    workarounds: guest?.workarounds ?? [],
    error: run.error,
    phase: run.phase,
    harnessMs: run.clock.harnessMs,
    incidents: incidentRunners(target).flatMap((r, i) => (r.incidents ?? []).slice(run.incidentMarks[i]).map((incident) => `${incident.host}: ${incident.text}`)),
    warnings: run.warnings,
  });
  return request.variant ? { ...record, variant: request.variant } : record;
}

function heartbeatData({ taps, request, probeStoppedAtMs }: MigrationRun): HeartbeatData | null {
  const { probe } = request.scenario;
  if (!taps.source) return null;
  return {
    periodMs: probe.heartbeatMs,
    gapThresholdMs: probe.gapThresholdMs,
    beats: [...taps.source.heartbeats, ...(taps.destination?.heartbeats ?? [])],
    stoppedAtMs: probeStoppedAtMs || epochMs(),
    tapLosses: (['source', 'destination'] as const).flatMap((side) => (taps[side]?.losses ?? []).map((l) => ({ side, ...l }))),
  };
}

function probeData({ probe, request, address, probeTotals, probeStoppedAtMs }: MigrationRun): ProbeData | null {
  const { probe: settings } = request.scenario;
  if (!probe) return null;
  return {
    tool: settings.tool,
    address,
    intervalMs: settings.intervalMs,
    gapThresholdMs: settings.gapThresholdMs,
    replies: probe.replies,
    totals: probeTotals,
    stoppedAtMs: probeStoppedAtMs || epochMs(),
  };
}

function integrityData(run: MigrationRun): IntegrityData {
  const { taps, verification, request } = run;
  const location: Side = run.guest?.location ?? 'source';
  return {
    location,
    answering: run.answering,
    // The source's one agent start is the boot; any other start is the guest restarting.
    restarted: (taps.destination?.starts.length ?? 0) > 0 || (taps.source?.starts.length ?? 0) > 1 || Boolean(taps[location]?.seqRegressions),
    panicked: run.panicked,
    hypervisorStatus: run.hypervisorStatus,
    verification: verification.memory,
    dirtierBadPages: Math.max(0, ...(taps[location]?.stats ?? []).map((s) => s.badPages)),
    hasAgent: Boolean(taps.source),
    diskVerification: verification.disk,
    hasDisk: request.scenario.guest.diskDataMiB > 0,
    diskWriteErrors: Math.max(0, ...[...(taps.source?.diskStats ?? []), ...(taps.destination?.diskStats ?? [])].map((w) => w.writeErrors)),
  };
}

function unknownEnvironment(): Environment {
  const host = { host: 'unknown', kernel: 'unknown', cpuModel: 'unknown', cpuCount: 0, hypervisorVersion: 'unknown', accel: 'unknown' };
  return { migbenchVersion: MIGBENCH_VERSION, gitSha: gitSha(), nodeVersion: process.version, source: host, destination: host };
}
