// The teardown of one migration, whatever phase it reached: every step runs, each for
// something a phase started.
import { cleanupFailures, errorMessage, runCleanups } from '../model/errors.js';
import type { GuestHandle } from '../hypervisors/hypervisor.js';
import { reverseTarget, type GuestChain } from './chain.js';
import { stopProbe, type MigrationRun } from './run.js';

type Cleanup = readonly [step: string, cleanup: () => Promise<unknown>];

/** `notKept`: why the guest cannot stay for the chain's next sample (null: it stays). */
export async function tearDown(run: MigrationRun, chain: GuestChain, notKept: string | null): Promise<void> {
  // A destination still being prepared would come up after the teardown, and be left running.
  await run.preparing?.catch(() => undefined);
  run.clock.restartLap();
  // The measurement stands: a teardown step that fails is a warning on the record (what
  // may be left on the hosts), never a failed migration.
  // What measured runs on different hosts and channels, independently: stopped all at once.
  // The guest goes last, once nothing taps it any more.
  const failures = [...(await cleanupFailures(measuringCleanups(run), { concurrently: true })), ...(await cleanupFailures(guestCleanup(run, chain, notKept)))];
  for (const failure of failures) {
    run.warnings.push({ step: String(failure.context.step), code: String(failure.context.causeCode), message: failure.message });
    run.log(`${run.vmId}: teardown step "${failure.context.step}" failed: ${errorMessage(failure)}`);
  }
  run.clock.lap('teardownMs');
  run.clock.stop();
}

/** One named step for each probe, counter and shaping a phase started. */
function measuringCleanups(run: MigrationRun): Cleanup[] {
  const { flowCounters, taps } = run;
  return [
    ['stop the probe', () => stopProbe(run)],
    ...(flowCounters ? [['remove the flow counters', () => flowCounters.remove()] as const] : []),
    ...run.unshape.map((undo) => ['remove link shaping', undo] as const),
    ...(['source', 'destination'] as const).flatMap((side) => {
      const tap = taps[side];
      return tap ? [[`stop the ${side} agent tap`, () => tap.stop()] as const] : [];
    }),
  ];
}

/** The guest goes to the chain, turned around for its way back, or is destroyed. */
function guestCleanup(run: MigrationRun, chain: GuestChain, notKept: string | null): Cleanup[] {
  const { guest, target } = run;
  if (!guest) {
    chain.drop(notKept ?? 'the previous sample had no guest');
    return [];
  }
  const destroy = () => target.hypervisor.destroyGuest(guest);
  if (notKept !== null) {
    chain.drop(notKept);
    return [[`destroy guest ${run.vmId}`, destroy]];
  }
  return [[`turn guest ${run.vmId} around for the next sample`, () => keepGuest(run, chain, guest)]];
}

async function keepGuest(run: MigrationRun, chain: GuestChain, guest: GuestHandle): Promise<void> {
  const { target, held, taps, guestTap } = run;
  try {
    const turned = await target.hypervisor.turnAround!(guest);
    const info = taps.source?.info ?? held?.agent?.info ?? null;
    const lastSeq = guestTap?.lastHeartbeat?.seq;
    chain.hold({
      target: reverseTarget(target, turned.hypervisor),
      guest: turned.guest,
      agent: lastSeq === undefined ? null : { info, lastSeq },
      position: (held?.position ?? 0) + 1,
      direction: (held?.direction ?? 'out') === 'out' ? 'back' : 'out',
    });
  } catch (error) {
    chain.drop(`turning the guest around failed: ${errorMessage(error)}`);
    await runCleanups([[`destroy guest ${run.vmId}`, () => target.hypervisor.destroyGuest(guest)]], error);
  }
}
