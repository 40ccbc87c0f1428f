// Runs one migration end to end and returns its record: boot the guest, start the
// probes (ICMP from the observer, the agent's heartbeat on both hosts, the migration
// link's counters), migrate, wait for the guest to answer again, verify its memory,
// tear down. Whatever fails, a record comes back and the guest is stopped.
import { errorMessage } from '../model/errors.js';
import type { Environment, GuestChain as ChainRecord, MigrationRecord } from '../generated/results.js';
import type { Side } from '../model/side.js';
import { epochMs } from '../model/time.js';
import { gitSha, MIGBENCH_VERSION } from '../model/version.js';
import { tearDown } from './cleanup.js';
import { MIGRATION_STEPS } from './phases.js';
import { GuestChain } from './chain.js';
import { buildIntegrity, buildRecord, type HeartbeatData, type IntegrityData, type ProbeData } from './record.js';
import { incidentRunners, newRun, type MigrationRun, type RunRequest } from './run.js';
import type { ConnectedTarget } from './target.js';

export type { RunRequest } from './run.js';
export { targetEnvironment } from './phases.js';

export async function runMigration(target: ConnectedTarget, request: RunRequest, log: (line: string) => void = () => undefined): Promise<MigrationRecord> {
  // A run alone is a chain of one: its guest's address is claimed like a chain's.
  const chain = request.chain ?? new GuestChain('a single run', { fresh: true, samplesPerBoot: 1 });
  const begin = await chain.take();
  const start = 'held' in begin ? begin : { ...begin, address: await chain.claimAddress(target) };
  const run = newRun(target, request, log, start);
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
    await tearDown(run, chain, whyNotKept(run, chain));
  }
  return recordOf(run);
}

/** Why the sample's guest cannot be the next sample's, or null when it can. */
function whyNotKept(run: MigrationRun, chain: GuestChain): string | null {
  const limit = chain.noHold(run.target, (run.held?.position ?? 0) + 1);
  if (limit) return limit;
  if (run.error || run.outcome?.status !== 'completed') return `the previous sample failed (${run.error ? run.phase : `migration ${run.outcome?.status ?? 'not run'}`})`;
  const { problem } = buildIntegrity(integrityData(run));
  return problem ? `the previous sample found the guest damaged: ${problem}` : null;
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
  return {
    ...record,
    ...sshChannelsOf(run),
    ...(request.chain && { chain: chainOf(run) }),
    ...(request.variant && { variant: request.variant }),
  };
}

/** SSH channels opened to each host since the run began, teardown included. */
function sshChannelsOf({ target, channelMarks }: MigrationRun): Pick<MigrationRecord, 'sshChannels'> {
  const count = (side: Side) => {
    const [now, before] = [target[side].runner.channelsOpened, channelMarks[side]];
    return now === undefined || before === null ? {} : { [side]: now - before };
  };
  const channels = { ...count('source'), ...count('destination') };
  return Object.keys(channels).length ? { sshChannels: channels } : {};
}

function chainOf(run: MigrationRun): ChainRecord {
  const { held, start } = run;
  return {
    id: run.vmId,
    position: held ? held.position + 1 : 1,
    direction: held?.direction ?? 'out',
    boot: held ? 'reused' : 'fresh',
    ...('freshBecause' in start && { freshBecause: start.freshBecause }),
    dirtyRatePagesPerSec: run.request.scenario.workload.memory?.dirtyRateMBps ? dirtyRate(run) : null,
  };
}

/** The dirtier's pages per second from its first to its last report of the sample, on either side (its counter migrates with the guest). */
function dirtyRate({ taps }: MigrationRun): number | null {
  const reports = [...(taps.source?.stats ?? []), ...(taps.destination?.stats ?? [])].sort((a, b) => a.atMs - b.atMs);
  const [first, last] = [reports[0], reports.at(-1)];
  if (!first || !last || last.atMs - first.atMs < 500) return null;
  return Math.round(((last.pagesDirtied - first.pagesDirtied) / (last.atMs - first.atMs)) * 1000);
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
    // The source's one agent start is the boot (a held guest booted samples ago: none);
    // any other start is the guest restarting.
    restarted:
      (taps.destination?.starts.length ?? 0) > 0 ||
      (taps.source?.starts.length ?? 0) > (run.held ? 0 : 1) ||
      Boolean(taps.source?.seqRegressions || taps[location]?.seqRegressions),
    panicked: run.panicked,
    consoleFault: run.consoleFault,
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
