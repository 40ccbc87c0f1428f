// Stopping a run without losing a guest. The suites run in a vitest worker process; the
// scenario running there must finish (its migration ends or times out, its guest is torn
// down) whatever happens to the run around it:
// - `migbench run` got SIGINT/SIGTERM: it writes the stop file; the worker skips the
//   scenarios that have not started;
// - the signal reached the worker too (a terminal's Ctrl-C, a process-group kill): the
//   worker takes it as the same request instead of dying mid-migration;
// - `migbench run` was killed outright (its IPC channel closed): nobody can record
//   results any more, so the worker finishes the running scenario and exits.
import { existsSync } from 'node:fs';

let requested: string | null = null;
let runnerGone = false;
let armed = false;
let onRunnerGone: () => void = () => undefined;
/** Settles when `migbench run` is gone: a wait on it (an RPC to it) can stop waiting then. */
export const runnerGoneSignal = new Promise<void>((resolve) => (onRunnerGone = resolve));

/** Installed once a worker starts measuring (not in workers that only import the suites). */
function arm(): void {
  if (armed) return;
  armed = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      requested ??= signal;
    });
  }
  process.on('disconnect', () => {
    requested ??= 'migbench run exited';
    runnerGone = true;
    onRunnerGone();
  });
}

/** Why the run is stopping (null while it is not). */
export function stopRequested(stopFile: string | undefined): string | null {
  arm();
  if (!requested && stopFile && existsSync(stopFile)) requested = 'migbench run was asked to stop';
  return requested;
}

/** After a scenario: with the runner gone, this worker has nothing left to do. */
export function exitIfRunnerGone(): void {
  if (runnerGone) process.exit(1);
}
