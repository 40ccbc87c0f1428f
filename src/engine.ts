// Runs one migration end to end and returns its record: boot the guest, start the
// probes (ICMP from the observer, the agent's heartbeat on both hosts, the migration
// link's counters), migrate, wait for the guest to answer again, verify its memory,
// tear down. Whatever fails, a record comes back and the guest is stopped.
import { randomBytes } from 'node:crypto';
import { cleanupFailures, errorMessage, MigbenchError } from './errors.js';
import type { Environment, HypervisorEvent, MigrationRecord, RecordWarning } from './generated/results.js';
import { guestMac, PATTERN_MIB, addressOnly } from './hardware.js';
import type { GuestHandle, GuestLaunch, MigrationOutcome } from './hypervisor.js';
import { AgentTap, type Side } from './probe/agent.js';
import { epochMs } from './probe/gaps.js';
import { IcmpProbe, type ProbeTotals } from './probe/icmp.js';
import { counterDelta, readInterfaceCounters, type InterfaceCounters } from './probe/wire.js';
import { FlowCounters, type FlowBytes } from './probe/flows.js';
import { shapeLink } from './lab/shaping.js';
import { buildRecord, type HeartbeatData, type ProbeData } from './record.js';
import { agentParameters, type Scenario } from './scenario.js';
import type { ConnectedTarget } from './target.js';
import { gitSha, MIGBENCH_VERSION } from './version.js';

export interface RunRequest {
  readonly scenario: Scenario;
  readonly suite: string;
  readonly test: string;
  readonly repetition: number;
  /** Matrix axis labels of the scenario, by axis path. */
  readonly axes?: Readonly<Record<string, string>>;
  /**
   * Fault injection: runs after the migration and before the guest is verified, so tests
   * can damage what a migration delivered and see migbench report it.
   */
  readonly afterMigration?: (guest: GuestHandle) => Promise<void>;
  /**
   * Fault injection: called (not awaited) as the migrate command is about to be issued, so
   * a test can break a process, a link or a connection while the migration runs.
   */
  readonly duringMigration?: (guest: GuestHandle) => void;
  /** A/B runs: which configuration this is. */
  readonly variant?: 'base' | 'head';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const VERIFY_TIMEOUT_MS = 60_000;

const environments = new WeakMap<ConnectedTarget, Promise<Environment>>();

export function targetEnvironment(target: ConnectedTarget): Promise<Environment> {
  let env = environments.get(target);
  if (!env) {
    env = target.hypervisor.describe().then((hosts) => ({ migbenchVersion: MIGBENCH_VERSION, gitSha: gitSha(), nodeVersion: process.version, ...hosts }));
    env.catch(() => environments.delete(target));
    environments.set(target, env);
  }
  return env;
}

export async function runMigration(target: ConnectedTarget, request: RunRequest, log: (line: string) => void = () => undefined): Promise<MigrationRecord> {
  const { scenario } = request;
  const hv = target.hypervisor;
  const vmId = `mb${randomBytes(3).toString('hex')}`;
  const startedAt = new Date().toISOString();
  const launch: GuestLaunch = {
    vmId,
    guest: scenario.guest,
    network: { address: target.guestNetwork.address, mac: guestMac(vmId) },
    agent: agentParameters(scenario.workload, scenario.guest, scenario.probe.heartbeatMs, PATTERN_MIB),
    storage: scenario.migration.kind === 'storage' ? 'local' : 'shared',
  };
  const address = addressOnly(target.guestNetwork.address);

  let phase = 'environment';
  let error: unknown;
  let environment: Environment | undefined;
  let guest: GuestHandle | undefined;
  const taps: Partial<Record<Side, AgentTap>> = {};
  let probe: IcmpProbe | undefined;
  let probeTotals: ProbeTotals | null = null;
  let probeStoppedAtMs = 0;
  let outcome: MigrationOutcome | null = null;
  let wireBefore: InterfaceCounters | undefined;
  let wireDelta: InterfaceCounters | undefined;
  let verification: Awaited<ReturnType<AgentTap['verify']>> = { memory: null, disk: null };
  let flowCounters: FlowCounters | undefined;
  let flows: FlowBytes | null = null;
  const unshape: Array<() => Promise<void>> = [];
  const warnings: RecordWarning[] = [];
  // What the hosts' runners had to do about lost connections during this run goes in its notes.
  const runners = [target.source.runner, target.destination.runner, target.observer];
  const incidentMarks = runners.map((r) => r.incidents?.length ?? 0);
  let blocksBefore: number | null = null;
  let blocksAfter: number | null = null;
  let answering = false;
  let panicked = false;
  let hypervisorStatus = 'unknown';
  let events: HypervisorEvent[] | null = null;
  let preparing: Promise<void> | undefined;
  // Where the runner's time goes, phase by phase: the harness overhead, measured on every run.
  const harnessMs: Record<string, number> = {};
  const runStarted = performance.now();
  let lapStarted = runStarted;
  const lap = (key: string) => {
    const now = performance.now();
    harnessMs[key] = Math.round((now - lapStarted) * 10) / 10;
    lapStarted = now;
  };

  const stopProbe = async () => {
    if (!probe) return;
    const p = probe;
    probe = undefined;
    probeStoppedAtMs = epochMs();
    probeTotals = await p.stop();
  };
  let probeRef: IcmpProbe | undefined;

  try {
    environment = await targetEnvironment(target);

    phase = 'start-guest';
    const bootStarted = epochMs();
    guest = await hv.startGuest(launch);
    lap('startGuestMs');
    // The destination gets ready while the source boots, rather than after it: under TCG the
    // boot is seconds of a busy vCPU, the incoming QEMU needs none. Awaited under 'prepare'.
    preparing = hv.prepareDestination(guest, scenario.migration);
    preparing.catch(() => undefined);
    const srcEndpoint = hv.agentEndpoint(guest, 'source');
    if (srcEndpoint) {
      taps.source = new AgentTap({ ...srcEndpoint, side: 'source' });
      const booted = await waitForBoot(target, guest, taps.source, scenario.bootTimeoutMs);
      if (booted !== 'booted') {
        const why = booted === 'agent-died' ? 'the guest agent died while starting' : `guest did not boot within ${scenario.bootTimeoutMs} ms (no agent heartbeat)`;
        throw new MigbenchError('MB_GUEST', `${why}${await diagnosticsSuffix(target, guest, 'source', taps.source)}`);
      }
      log(`${vmId}: booted in ${((epochMs() - bootStarted) / 1000).toFixed(1)} s`);
    }
    probe = probeRef = IcmpProbe.start({ runner: target.observer, tool: scenario.probe.tool, toolPath: target.observerProbePath, address, intervalMs: scenario.probe.intervalMs });
    if (!(await probe.waitForReply(0, 15_000))) {
      throw new MigbenchError('MB_GUEST', `guest ${address} does not answer the probe from the observer (${target.observer.host})${await diagnosticsSuffix(target, guest, 'source')}`);
    }

    lap('bootMs');

    phase = 'prepare';
    await preparing;
    const dstEndpoint = hv.agentEndpoint(guest, 'destination');
    if (dstEndpoint) {
      taps.destination = new AgentTap({ ...dstEndpoint, side: 'destination', ...(dstEndpoint.appearsDuringMigration && { connectWithinMs: scenario.migration.timeoutMs + 60_000 }) });
      if (!dstEndpoint.appearsDuringMigration && !(await taps.destination.waitFor(() => taps.destination!.connected, 15_000))) {
        throw new MigbenchError('MB_PROBE', `cannot tap the destination's agent channel ${dstEndpoint.socketPath}: ${await taps.destination.diagnostics()}`);
      }
    }
    if (scenario.link) {
      if (!target.lab) throw new MigbenchError('MB_LAB', `link shaping is only done in the embedded lab, not on target ${target.name}`);
      for (const host of [target.source, target.destination]) unshape.push(await shapeLink(host.runner, host.migrationInterface, scenario.link));
    }
    lap('prepareMs');
    const readWire = () => (hv.interfaceCounters ? hv.interfaceCounters('source', target.source.migrationInterface) : readInterfaceCounters(target.source.runner, target.source.migrationInterface));
    wireBefore = await readWire();
    await sleep(scenario.probe.leadInMs);
    if (taps.source?.hasDisk) {
      const seen = taps.source.diskStats.length;
      taps.source.send('stats');
      if (await taps.source.waitFor(() => taps.source!.diskStats.length > seen, 2000)) blocksBefore = taps.source.diskStats.at(-1)!.blocksWritten;
    }

    lap('leadInMs');

    phase = 'migrate';
    request.duringMigration?.(guest);
    outcome = await hv.migrate(guest, scenario.migration, {
      beforeTransfer: async (ports) => {
        try {
          flowCounters = await FlowCounters.install(target.source.runner, vmId, ports);
        } catch (flowError) {
          // Without per-flow counters the RAM/disk split is not measured; everything else is.
          log(`${vmId}: ${errorMessage(flowError)}`);
        }
      },
    });
    log(`${vmId}: migration ${outcome.status} after ${Math.round(outcome.endedAtMs - outcome.startedAtMs)} ms`);

    if (request.afterMigration) await request.afterMigration(guest);

    lap('migrateMs');

    phase = 'settle';
    const location = guest.location;
    const tap = taps[location];
    const after = outcome.endedAtMs;
    const [answered, beating] = await Promise.all([
      probe.waitForReply(after, scenario.probe.settleTimeoutMs),
      tap ? tap.waitFor(() => (tap.lastHeartbeat?.atMs ?? 0) > after, scenario.probe.settleTimeoutMs) : Promise.resolve(true),
    ]);
    lap('settleMs');
    // Keep watching: damage from a migration can take a while to crash the guest.
    await sleep(scenario.probe.observeAfterMs);
    wireDelta = counterDelta(wireBefore, await readWire());
    if (flowCounters) {
      // The split is one measurement among many: losing it must not lose the record.
      flows = await flowCounters.read().catch((flowError: unknown) => {
        log(`${vmId}: ${errorMessage(flowError)}`);
        return null;
      });
    }
    await stopProbe();
    lap('observeMs');

    phase = 'verify';
    if (tap && beating) {
      verification = await tap.verify(VERIFY_TIMEOUT_MS, Boolean(taps.source?.hasDisk));
      const reports = tap.stats.length;
      tap.send('stats');
      await tap.waitFor(() => tap.stats.length > reports, 5000);
    }
    if (blocksBefore !== null) {
      const after = taps.destination?.diskStats.find((w) => w.atMs > outcome!.endedAtMs) ?? taps.source?.diskStats.find((w) => w.atMs > outcome!.endedAtMs);
      blocksAfter = after?.blocksWritten ?? null;
    }
    const inspection = await hv.inspect(guest);
    events = inspection.events;
    const stillBeating = !tap || epochMs() - (tap.lastHeartbeat?.atMs ?? 0) < 2000;
    answering = answered && beating && stillBeating;
    panicked = inspection.panicked;
    hypervisorStatus = inspection.status;
    lap('verifyMs');
  } catch (caught) {
    error = caught;
    log(`${vmId}: ${phase} failed: ${errorMessage(caught)}`);
  } finally {
    // A destination still being prepared would come up after the teardown, and be left running.
    await preparing?.catch(() => undefined);
    lapStarted = performance.now();
    const cleanups: Array<readonly [string, () => Promise<unknown>]> = [
      ['stop the probe', stopProbe],
      ...(flowCounters ? [['remove the flow counters', () => flowCounters!.remove()] as const] : []),
      ...unshape.map((undo) => ['remove link shaping', undo] as const),
      ...(['source', 'destination'] as const).flatMap((side) => (taps[side] ? [[`stop the ${side} agent tap`, () => taps[side]!.stop()] as const] : [])),
      ...(guest ? [[`destroy guest ${vmId}`, () => hv.destroyGuest(guest!)] as const] : []),
    ];
    // The measurement stands: a teardown step that fails is a warning on the record (what
    // may be left on the hosts), never a failed migration.
    for (const failure of await cleanupFailures(cleanups)) {
      warnings.push({ step: String(failure.context.step), code: String(failure.context.causeCode), message: failure.message });
      log(`${vmId}: teardown step "${failure.context.step}" failed: ${errorMessage(failure)}`);
    }
    lap('teardownMs');
    harnessMs.wallMs = Math.round((performance.now() - runStarted) * 10) / 10;
  }

  const beats = [...(taps.source?.heartbeats ?? []), ...(taps.destination?.heartbeats ?? [])];
  const heartbeat: HeartbeatData | null = taps.source
    ? {
        periodMs: scenario.probe.heartbeatMs,
        gapThresholdMs: scenario.probe.gapThresholdMs,
        beats,
        stoppedAtMs: probeStoppedAtMs || epochMs(),
        tapLosses: (['source', 'destination'] as const).flatMap((side) => (taps[side]?.losses ?? []).map((l) => ({ side, ...l }))),
      }
    : null;
  const probeData: ProbeData | null = probeRef
    ? {
        tool: scenario.probe.tool,
        address,
        intervalMs: scenario.probe.intervalMs,
        gapThresholdMs: scenario.probe.gapThresholdMs,
        replies: probeRef.replies,
        totals: probeTotals,
        stoppedAtMs: probeStoppedAtMs || epochMs(),
      }
    : null;
  const location: Side = guest?.location ?? 'source';
  const record = buildRecord({
    id: vmId,
    suite: request.suite,
    test: request.test,
    scenario,
    repetition: request.repetition,
    hypervisor: hv.kind,
    startedAt,
    outcome: outcome && events ? { ...outcome, events } : outcome,
    probe: probeData,
    heartbeat,
    wire: wireDelta ? { host: target.source.runner.host, interface: target.source.migrationInterface, delta: wireDelta } : null,
    integrity: {
      location,
      answering,
      // The source's one agent start is the boot; any other start is the guest restarting.
      restarted: (taps.destination?.starts.length ?? 0) > 0 || (taps.source?.starts.length ?? 0) > 1 || Boolean(taps[location]?.seqRegressions),
      panicked,
      hypervisorStatus,
      verification: verification.memory,
      dirtierBadPages: Math.max(0, ...(taps[location]?.stats ?? []).map((s) => s.badPages)),
      hasAgent: Boolean(taps.source),
      diskVerification: verification.disk,
      hasDisk: scenario.guest.diskDataMiB > 0,
      diskWriteErrors: Math.max(0, ...[...(taps.source?.diskStats ?? []), ...(taps.destination?.diskStats ?? [])].map((w) => w.writeErrors)),
    },
    flows,
    link: scenario.link ? { interface: target.source.migrationInterface, bandwidthMbps: scenario.link.bandwidthMbps ?? null, delayMs: scenario.link.delayMs ?? null } : null,
    guestBlocksWritten: blocksBefore !== null && blocksAfter !== null ? blocksAfter - blocksBefore : null,
    axes: request.axes ?? null,
    environment: environment ?? unknownEnvironment(),
    workarounds: guest?.workarounds ?? [],
    error,
    phase,
    harnessMs,
    incidents: runners.flatMap((r, i) => (r.incidents ?? []).slice(incidentMarks[i]).map((incident) => `${incident.host}: ${incident.text}`)),
    warnings,
  });
  return request.variant ? { ...record, variant: request.variant } : record;
}

/**
 * Waits for the first heartbeat, looking at the console every 2 s: an agent that died
 * (killed for lack of memory, say) fails the run now rather than at the boot timeout.
 */
async function waitForBoot(target: ConnectedTarget, guest: GuestHandle, tap: AgentTap, timeoutMs: number): Promise<'booted' | 'agent-died' | 'timeout'> {
  const deadline = epochMs() + timeoutMs;
  for (;;) {
    if (await tap.waitFor(() => tap.heartbeats.length > 0, Math.min(2000, Math.max(0, deadline - epochMs())))) return 'booted';
    const console = await target.hypervisor.diagnostics(guest, 'source').catch(() => '');
    if (/migbench-init: agent exited/.test(console)) return 'agent-died';
    if (epochMs() >= deadline) return 'timeout';
  }
}

async function diagnosticsSuffix(target: ConnectedTarget, guest: GuestHandle, side: Side, tap?: AgentTap): Promise<string> {
  const parts = [await target.hypervisor.diagnostics(guest, side).catch(() => '')];
  if (tap) parts.push(await tap.diagnostics());
  const text = parts.filter(Boolean).join('\n');
  return text ? `\n${text}` : '';
}

function unknownEnvironment(): Environment {
  const host = { host: 'unknown', kernel: 'unknown', cpuModel: 'unknown', cpuCount: 0, hypervisorVersion: 'unknown', accel: 'unknown' };
  return { migbenchVersion: MIGBENCH_VERSION, gitSha: gitSha(), nodeVersion: process.version, source: host, destination: host };
}
