// The one poll / cancel-at-timeout loop for a migration a vendor runs as a task (a XenAPI
// task, a vSphere task, a Hyper-V job). Each driver supplies how to read its task (already
// translated from the vendor's fields), what progress a reading shows, which readings are
// final, and how to cancel the task; the loop is the same for all of them.
import type { ProgressSample } from '../generated/results.js';
import { epochMs, sleep } from '../model/time.js';
import { toProgressSample, type MigrationProgress } from './progress.js';

/** A running migration task, in the driver's terms. */
export interface PolledTask<T> {
  /** One reading of the task; a reading that fails ends the polling with its error. */
  read(): Promise<T>;
  /** What the reading shows, for the timeline. */
  progress(task: T): MigrationProgress;
  /** Whether the task has ended (succeeded, failed, cancelled). */
  isTerminal(task: T): boolean;
  /** Asks the hypervisor to cancel the task; polling goes on until the task says it ended. */
  cancel(): Promise<unknown>;
}

export interface TaskPolling {
  /** When the migration was started, ms since the epoch: the timeline's origin and the timeout's. */
  readonly startedAtMs: number;
  /** The task is cancelled once it runs longer than this. */
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** Called with each sample as the timeline gets it. */
  readonly onSample?: (sample: ProgressSample) => void;
}

/** How the task ended. */
export interface PolledOutcome<T> {
  /** The reading that showed the task ended. */
  readonly final: T;
  /** The task ran past the timeout and was asked to cancel (whether or not the cancel call succeeded). */
  readonly cancelled: boolean;
  /** One sample per reading, the final one included. */
  readonly timeline: ProgressSample[];
}

/** Polls a task until it ends, cancelling it once at the timeout. */
export async function pollTask<T>(task: PolledTask<T>, polling: TaskPolling): Promise<PolledOutcome<T>> {
  const { startedAtMs, timeoutMs, intervalMs } = polling;
  const timeline: ProgressSample[] = [];
  let cancelled = false;
  for (;;) {
    const reading = await task.read();
    const sample = toProgressSample(task.progress(reading), epochMs() - startedAtMs);
    timeline.push(sample);
    polling.onSample?.(sample);
    if (task.isTerminal(reading)) return { final: reading, cancelled, timeline };
    if (!cancelled && epochMs() - startedAtMs > timeoutMs) {
      cancelled = true;
      // A cancel the hypervisor refuses (the task ended meanwhile, say) changes nothing: the task's own end is what counts.
      await task.cancel().catch(() => undefined);
    }
    await sleep(intervalMs);
  }
}
