// The teardown of one migration, whatever phase it reached: every step runs, each for
// something a phase started.
import { cleanupFailures, errorMessage } from '../model/errors.js';
import { stopProbe, type MigrationRun } from './run.js';

type Cleanup = readonly [step: string, cleanup: () => Promise<unknown>];

export async function tearDown(run: MigrationRun): Promise<void> {
  // A destination still being prepared would come up after the teardown, and be left running.
  await run.preparing?.catch(() => undefined);
  run.clock.restartLap();
  // The measurement stands: a teardown step that fails is a warning on the record (what
  // may be left on the hosts), never a failed migration.
  for (const failure of await cleanupFailures(cleanupsOf(run))) {
    run.warnings.push({ step: String(failure.context.step), code: String(failure.context.causeCode), message: failure.message });
    run.log(`${run.vmId}: teardown step "${failure.context.step}" failed: ${errorMessage(failure)}`);
  }
  run.clock.lap('teardownMs');
  run.clock.stop();
}

/** One named step for each thing a phase started, the guest last. */
function cleanupsOf(run: MigrationRun): Cleanup[] {
  const { flowCounters, taps, guest } = run;
  return [
    ['stop the probe', () => stopProbe(run)],
    ...(flowCounters ? [['remove the flow counters', () => flowCounters.remove()] as const] : []),
    ...run.unshape.map((undo) => ['remove link shaping', undo] as const),
    ...(['source', 'destination'] as const).flatMap((side) => {
      const tap = taps[side];
      return tap ? [[`stop the ${side} agent tap`, () => tap.stop()] as const] : [];
    }),
    ...(guest ? [[`destroy guest ${run.vmId}`, () => run.target.hypervisor.destroyGuest(guest)] as const] : []),
  ];
}
