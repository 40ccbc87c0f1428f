// The steps of one migration, in the order they run, each under the phase a failure in
// it is recorded as. The order is the measurement's: the destination is prepared while
// the source boots, the probes run before the migrate command and until after the guest
// answered again, and the guest is verified only once the probe is stopped.
import { percentDone } from '../model/progress.js';
import { errorMessage, MigbenchError } from '../model/errors.js';
import type { Environment } from '../generated/results.js';
import type { Side } from '../model/side.js';
import { epochMs, sleep } from '../model/time.js';
import { gitSha, MIGBENCH_VERSION } from '../model/version.js';
import type { GuestHandle } from '../hypervisors/hypervisor.js';
import { AgentTap } from '../probes/agent.js';
import { consoleFault } from '../probes/console.js';
import { FlowCounters, type FlowPorts } from '../probes/flows.js';
import { IcmpProbe } from '../probes/icmp.js';
import { steadySince, type Signal } from '../probes/gaps.js';
import { counterDelta, readInterfaceCounters, type InterfaceCounters } from '../probes/wire.js';
import { shapeLink } from '../lab/shaping.js';
import { stopProbe, type MigrationRun } from './run.js';
import type { ConnectedTarget } from './target.js';

type Step = (run: MigrationRun) => Promise<void>;

export const MIGRATION_STEPS: ReadonlyArray<readonly [phase: string, step: Step]> = [
  ['environment', describeEnvironment],
  ['start-guest', launchGuest],
  ['start-guest', waitForSourceAgent],
  ['start-guest', startIcmpProbe],
  ['prepare', awaitDestination],
  ['prepare', tapDestinationAgent],
  ['prepare', shapeLinks],
  ['prepare', leadIn],
  ['migrate', migrate],
  ['settle', waitForGuestToAnswer],
  ['settle', observe],
  ['verify', verifyGuest],
  ['verify', inspectGuest],
];

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

async function describeEnvironment(run: MigrationRun): Promise<void> {
  run.environment = await targetEnvironment(run.target);
}

/** Boots the guest, or takes the one the chain's last sample left (already running here). */
async function launchGuest(run: MigrationRun): Promise<void> {
  const hv = run.target.hypervisor;
  run.bootStartedAtMs = epochMs();
  const guest = (run.guest = run.held?.guest ?? (await hv.startGuest(run.launch)));
  run.clock.lap('startGuestMs');
  // The destination gets ready while the source boots, rather than after it: under TCG the
  // boot is seconds of a busy vCPU, the incoming QEMU needs none. Awaited under 'prepare'.
  run.preparing = hv.prepareDestination(guest, run.request.scenario.migration);
  run.preparing.catch(() => undefined);
}

async function waitForSourceAgent(run: MigrationRun): Promise<void> {
  const { target, vmId } = run;
  const guest = run.guest!;
  const { bootTimeoutMs } = run.request.scenario;
  const endpoint = target.hypervisor.agentEndpoint(guest, 'source');
  if (!endpoint) return;
  const memory = run.held?.agent;
  const tap = (run.taps.source = new AgentTap({ ...endpoint, side: 'source', ...(memory && { memory }), ...(target.probeCpus && { cpus: target.probeCpus }) }));
  const booted = await waitForBoot(target, guest, tap, bootTimeoutMs);
  if (booted !== 'booted') {
    const why =
      booted === 'agent-died'
        ? 'the guest agent died while starting'
        : run.held
          ? `the guest from the last sample sends no heartbeat within ${bootTimeoutMs} ms`
          : `guest did not boot within ${bootTimeoutMs} ms (no agent heartbeat)`;
    throw new MigbenchError('MB_GUEST', `${why}${await diagnosticsSuffix(target, guest, 'source', tap)}`);
  }
  const took = `${((epochMs() - run.bootStartedAtMs) / 1000).toFixed(1)} s`;
  run.log(run.held ? `${vmId}: sample ${run.held.position + 1} of this guest, its agent heard after ${took}` : `${vmId}: booted in ${took}`);
}

async function startIcmpProbe(run: MigrationRun): Promise<void> {
  const { target, address } = run;
  const { probe: settings } = run.request.scenario;
  const probe =
    (run.probe =
    run.probing =
      IcmpProbe.start({
        runner: target.observer,
        tool: settings.tool,
        toolPath: target.observerProbePath,
        address,
        intervalMs: settings.intervalMs,
        ...(target.probeCpus && { cpus: target.probeCpus }),
      }));
  if (!(await probe.waitForReply(0, 15_000))) {
    throw new MigbenchError(
      'MB_GUEST',
      `guest ${address} does not answer the probe from the observer (${target.observer.host})${await diagnosticsSuffix(target, run.guest!, 'source')}`,
    );
  }
  run.clock.lap('bootMs');
}

async function awaitDestination(run: MigrationRun): Promise<void> {
  await run.preparing;
}

async function tapDestinationAgent(run: MigrationRun): Promise<void> {
  const endpoint = run.target.hypervisor.agentEndpoint(run.guest!, 'destination');
  if (!endpoint) return;
  const tap = (run.taps.destination = new AgentTap({
    ...endpoint,
    side: 'destination',
    ...(run.target.probeCpus && { cpus: run.target.probeCpus }),
    ...(endpoint.appearsDuringMigration && { connectWithinMs: run.request.scenario.migration.timeoutMs + 60_000 }),
  }));
  if (!endpoint.appearsDuringMigration && !(await tap.waitFor(() => tap.connected, 15_000))) {
    throw new MigbenchError('MB_PROBE', `cannot tap the destination's agent channel ${endpoint.socketPath}: ${await tap.diagnostics()}`);
  }
}

async function shapeLinks(run: MigrationRun): Promise<void> {
  const { target } = run;
  const { link } = run.request.scenario;
  if (link) {
    if (!target.lab) throw new MigbenchError('MB_LAB', `link shaping is only done in the embedded lab, not on target ${target.name}`);
    for (const host of [target.source, target.destination]) run.unshape.push(await shapeLink(host.runner, host.migrationInterface, link));
  }
  run.clock.lap('prepareMs');
}

/** The migration link's counters, then quiet time for the probes' baseline, then the guest's disk writes so far. */
async function leadIn(run: MigrationRun): Promise<void> {
  run.wireBefore = await readWire(run.target);
  // Fixed after a boot, not ended by steady probes: the guest settles after its boot for a
  // while after the network is steady. With a lead-in ended that way (about 0.3 s), idle-256's
  // observed downtime had a median of 210 ms (142-233), against 129 ms (93-148) with this 1 s
  // lead-in (npm run bench on one day, 10 runs each): the migration caught the guest's
  // post-boot work. A guest kept from the last sample has none: its lead-in ends once the
  // probes are steady (BENCHMARKS.md compares the two modes).
  const { leadInMs } = run.request.scenario.probe;
  await (run.held ? quietWindow(run, run.taps.source, leadInMs) : sleep(leadInMs));
  const tap = run.taps.source;
  if (tap?.hasDisk) run.blocksBefore = await readBlocksWritten(tap);
  run.clock.lap('leadInMs');
}

async function migrate(run: MigrationRun): Promise<void> {
  const { target, request, vmId } = run;
  const guest = run.guest!;
  request.duringMigration?.(guest);
  const onProgress = request.onProgress;
  const outcome = (run.outcome = await target.hypervisor.migrate(guest, request.scenario.migration, {
    beforeTransfer: (ports) => installFlowCounters(run, ports),
    ...(onProgress && { onSample: (sample) => onProgress({ phase: run.phase, percent: percentDone(sample) }) }),
  }));
  run.log(`${vmId}: migration ${outcome.status} after ${Math.round(outcome.endedAtMs - outcome.startedAtMs)} ms`);
  if (request.afterMigration) await request.afterMigration(guest, run.taps[guest.location]);
  run.clock.lap('migrateMs');
}

async function installFlowCounters(run: MigrationRun, ports: FlowPorts): Promise<void> {
  try {
    run.flowCounters = await FlowCounters.install(run.target.source.runner, run.vmId, ports);
  } catch (flowError) {
    // Without per-flow counters the RAM/disk split is not measured; everything else is.
    run.log(`${run.vmId}: ${errorMessage(flowError)}`);
  }
}

async function waitForGuestToAnswer(run: MigrationRun): Promise<void> {
  const { settleTimeoutMs } = run.request.scenario.probe;
  const tap = (run.guestTap = run.taps[run.guest!.location]);
  const after = run.outcome!.endedAtMs;
  [run.answered, run.beating] = await Promise.all([
    run.probe!.waitForReply(after, settleTimeoutMs),
    tap ? tap.waitFor(() => (tap.lastHeartbeat?.atMs ?? 0) > after, settleTimeoutMs) : Promise.resolve(true),
  ]);
  run.clock.lap('settleMs');
}

async function observe(run: MigrationRun): Promise<void> {
  const { flowCounters, vmId } = run;
  // Keep watching until both probes are steady again: the gap analysis needs the silence
  // closed with margin, and a guest that comes back only to stall again shows here.
  await quietWindow(run, run.guestTap, run.request.scenario.probe.observeAfterMs);
  run.wireDelta = counterDelta(run.wireBefore!, await readWire(run.target));
  if (flowCounters) {
    // The split is one measurement among many: losing it must not lose the record.
    run.flows = await flowCounters.read().catch((flowError: unknown) => {
      run.log(`${vmId}: ${errorMessage(flowError)}`);
      return null;
    });
  }
  await stopProbe(run);
  run.clock.lap('observeMs');
}

async function verifyGuest(run: MigrationRun): Promise<void> {
  const { guestTap: tap, taps, outcome } = run;
  if (tap && run.beating) {
    run.verification = await tap.verify(VERIFY_TIMEOUT_MS, Boolean(taps.source?.hasDisk));
    const reports = tap.stats.length;
    tap.send('stats');
    await tap.waitFor(() => tap.stats.length > reports, 5000);
  }
  if (run.blocksBefore !== null) {
    const after = taps.destination?.diskStats.find((w) => w.atMs > outcome!.endedAtMs) ?? taps.source?.diskStats.find((w) => w.atMs > outcome!.endedAtMs);
    // A short watch-after may end before the writer's next report: ask the guest for one.
    run.blocksAfter = after?.blocksWritten ?? (tap && run.beating ? await readBlocksWritten(tap) : null);
  }
}

async function inspectGuest(run: MigrationRun): Promise<void> {
  const tap = run.guestTap;
  const inspection = await run.target.hypervisor.inspect(run.guest!);
  run.events = inspection.events;
  const stillBeating = !tap || epochMs() - (tap.lastHeartbeat?.atMs ?? 0) < 2000;
  run.answering = run.answered && run.beating && stillBeating;
  run.panicked = inspection.panicked;
  run.hypervisorStatus = inspection.status;
  if (!run.answering || run.panicked || !inspection.running) run.consoleFault = await readConsoleFault(run);
  run.clock.lap('verifyMs');
}

/** Why a lost guest was lost, as its console says; a console that cannot be read says nothing. */
async function readConsoleFault(run: MigrationRun): Promise<string | null> {
  const { hypervisor } = run.target;
  if (!hypervisor.guestConsole) return null;
  const text = await hypervisor.guestConsole(run.guest!, run.guest!.location).catch((e: unknown) => {
    run.log(`${run.guest!.vmId}: could not read the guest's console: ${errorMessage(e)}`);
    return '';
  });
  return consoleFault(text);
}

/**
 * A window with the probes running: over once the ICMP replies and the guest's heartbeats
 * have both been steady for `steadyReplies` in a row since it began (probe settings), at
 * most `maxMs`; fixed at `maxMs` with steadyReplies 0.
 */
async function quietWindow(run: MigrationRun, tap: AgentTap | undefined, maxMs: number): Promise<void> {
  const { steadyReplies, gapThresholdMs } = run.request.scenario.probe;
  if (!steadyReplies || !run.probe) return sleep(maxMs);
  const since = epochMs();
  const deadline = since + maxMs;
  const probe = run.probe;
  const steady = (signals: readonly Signal[]) => steadySince(signals, since, steadyReplies, gapThresholdMs);
  const both = () => steady(probe.replies) && (!tap || steady(tap.heartbeats));
  // Each wait ends when its own signal is steady; the window, only when both are at once.
  while (!both() && epochMs() < deadline) {
    const left = deadline - epochMs();
    await Promise.all([probe.waitUntil(() => steady(probe.replies), left), tap ? tap.waitFor(() => steady(tap.heartbeats), left) : Promise.resolve(true)]);
    if (!both() && epochMs() < deadline) await sleep(Math.min(10, deadline - epochMs()));
  }
}

function readWire(target: ConnectedTarget): Promise<InterfaceCounters> {
  const { hypervisor: hv, source } = target;
  return hv.interfaceCounters ? hv.interfaceCounters('source', source.migrationInterface) : readInterfaceCounters(source.runner, source.migrationInterface);
}

/** 4 KiB blocks the guest wrote so far, as its disk writer reports on request (null without a report). */
async function readBlocksWritten(tap: AgentTap): Promise<number | null> {
  const seen = tap.diskStats.length;
  tap.send('stats');
  return (await tap.waitFor(() => tap.diskStats.length > seen, 2000)) ? tap.diskStats.at(-1)!.blocksWritten : null;
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
