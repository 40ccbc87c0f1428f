// Measures the measurer: pauses a guest for a known time (QMP stop/cont) without
// migrating, and compares what the hypervisor says with what the ICMP probe and the
// heartbeat saw. Used by the accuracy test and by the benchmark.
import { randomBytes } from 'node:crypto';
import { MigbenchError, runCleanups } from '../model/errors.js';
import { addressOnly, guestMac, PATTERN_MIB } from '../model/hardware.js';
import type { GuestHandle, Hypervisor } from '../hypervisors/hypervisor.js';
import { AgentTap } from '../probes/agent.js';
import { analyseGaps } from '../probes/gaps.js';
import { IcmpProbe, type ProbeTool } from '../probes/icmp.js';
import { agentParameters, IDLE } from '../model/scenario.js';
import type { ConnectedTarget } from './target.js';
import { sleep } from '../model/time.js';

/** One signal's view of a pause: its largest gap, and where the gap sits around STOP and RESUME. */
export interface SignalView {
  readonly gapMs: number | null;
  /** From the last signal before the gap to STOP. */
  readonly leadMs: number | null;
  /** From RESUME to the first signal after the gap. */
  readonly lagMs: number | null;
}

/** No disk: a calibration pause has nothing to do with storage. */
const CALIBRATION_GUEST = (memoryMiB: number) => ({ memoryMiB, vcpus: 1, diskMiB: 0, diskDataMiB: 0 });

export interface PauseMeasurement {
  readonly requestedMs: number;
  /** RESUME minus STOP, from QEMU's own event timestamps. */
  readonly pausedMs: number;
  readonly probe: SignalView;
  readonly heartbeat: SignalView;
  /** How far the guest's own clock moved across the heartbeat gap (it stops while paused). */
  readonly guestClockGapMs: number | null;
}

export interface CalibrationOptions {
  readonly pausesMs: readonly number[];
  readonly probeIntervalMs: number;
  readonly heartbeatMs: number;
  readonly tool: ProbeTool;
  /** Quiet time between pauses so gaps do not touch. @default 500 */
  readonly settleMs?: number;
  readonly memoryMiB?: number;
  readonly bootTimeoutMs?: number;
  /** Called when the guest first answers the probe (the benchmark times boot with it). */
  readonly onReachable?: (atMs: number) => void;
}

export async function measurePauses(target: ConnectedTarget, options: CalibrationOptions): Promise<PauseMeasurement[]> {
  const hv = target.hypervisor;
  if (!hv.pause) throw new MigbenchError('MB_GUEST', `the ${hv.kind} driver cannot pause a guest on demand`);
  const vmId = `mb${randomBytes(3).toString('hex')}`;
  let guest: GuestHandle | undefined;
  let tap: AgentTap | undefined;
  let probe: IcmpProbe | undefined;
  const results: PauseMeasurement[] = [];
  let failure: unknown;
  try {
    guest = await hv.startGuest({
      vmId,
      guest: CALIBRATION_GUEST(options.memoryMiB ?? 256),
      network: { address: target.guestNetwork.address, mac: guestMac(vmId) },
      agent: agentParameters(IDLE, CALIBRATION_GUEST(options.memoryMiB ?? 256), options.heartbeatMs, PATTERN_MIB),
      storage: 'shared',
    });
    const endpoint = hv.agentEndpoint(guest, 'source');
    if (!endpoint) throw new MigbenchError('MB_GUEST', 'calibration needs the migbench agent');
    tap = new AgentTap({ ...endpoint, side: 'source' });
    if (!(await tap.waitFor(() => tap!.heartbeats.length > 0, options.bootTimeoutMs ?? 90_000))) throw new MigbenchError('MB_GUEST', 'guest did not boot');
    probe = IcmpProbe.start({
      runner: target.observer,
      tool: options.tool,
      toolPath: target.observerProbePath,
      address: addressOnly(target.guestNetwork.address),
      intervalMs: options.probeIntervalMs,
    });
    if (!(await probe.waitForReply(0, 15_000))) throw new MigbenchError('MB_GUEST', 'guest does not answer the probe');
    options.onReachable?.(Date.now());
    const settle = options.settleMs ?? 500;
    await sleep(settle);
    for (const requestedMs of options.pausesMs) results.push(await measurePause(hv.pause.bind(hv), guest, probe, tap, requestedMs, settle));
  } catch (error) {
    failure = error;
  }
  // Rethrows `failure` when set; a cleanup error never replaces it.
  await runCleanups(
    [
      ['stop the probe', async () => void (await probe?.stop())],
      ['stop the agent tap', async () => tap?.stop()],
      ['destroy the calibration guest', async () => (guest ? hv.destroyGuest(guest) : undefined)],
    ],
    failure,
  );
  return results;
}

/** Pauses the guest once, waits for both signals to come back, and reads their gaps around the pause. */
async function measurePause(
  pause: NonNullable<Hypervisor['pause']>,
  guest: GuestHandle,
  probe: IcmpProbe,
  tap: AgentTap,
  requestedMs: number,
  settle: number,
): Promise<PauseMeasurement> {
  const { stoppedAtMs, resumedAtMs } = await pause(guest, requestedMs);
  await Promise.all([probe.waitForReply(resumedAtMs, 10_000), tap.waitFor(() => (tap.lastHeartbeat?.atMs ?? 0) > resumedAtMs, 10_000)]);
  await sleep(settle);
  // Only signals around this pause: from half the quiet time before it to half after.
  const from = stoppedAtMs - settle / 2;
  const to = resumedAtMs + settle / 2;
  const window = <S extends { atMs: number }>(xs: readonly S[]) => xs.filter((x) => x.atMs >= from && x.atMs <= to);
  const probeGaps = analyseGaps(window(probe.replies), { originMs: from, observedToMs: to, thresholdMs: Number.POSITIVE_INFINITY });
  const beatGaps = analyseGaps(window(tap.heartbeats), { originMs: from, observedToMs: to, thresholdMs: Number.POSITIVE_INFINITY });
  const view = (gaps: { largestGapMs: number | null; largestPair: readonly [{ atMs: number }, { atMs: number }] | null }): SignalView => ({
    gapMs: gaps.largestGapMs,
    leadMs: gaps.largestPair ? stoppedAtMs - gaps.largestPair[0].atMs : null,
    lagMs: gaps.largestPair ? gaps.largestPair[1].atMs - resumedAtMs : null,
  });
  const pair = beatGaps.largestPair;
  return {
    requestedMs,
    pausedMs: resumedAtMs - stoppedAtMs,
    probe: view(probeGaps),
    heartbeat: view(beatGaps),
    guestClockGapMs: pair ? (pair[1].guestUs - pair[0].guestUs) / 1000 : null,
  };
}
