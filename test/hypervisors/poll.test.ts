// The vendors' task poller against a fake task that walks through scripted states.
import { describe, expect, test } from 'vitest';
import { epochMs } from '../../src/model/time.js';
import { pollTask, type PolledTask } from '../../src/hypervisors/poll.js';
import { statusProgress } from '../../src/hypervisors/progress.js';

type State = 'running' | 'success' | 'failed' | 'cancelled';

/** A task that reports `states` one per reading (the last one for ever), and ends as cancelled once cancelled if `honoursCancel`. */
function fakeTask(states: State[], options: { honoursCancel?: boolean; cancelFails?: boolean } = {}) {
  const calls: string[] = [];
  let readings = 0;
  let cancelledAt: number | null = null;
  const task: PolledTask<{ state: State; reading: number }> = {
    read: async () => {
      calls.push('read');
      const reading = readings++;
      if (options.honoursCancel && cancelledAt !== null && reading > cancelledAt) return { state: 'cancelled', reading };
      return { state: states[Math.min(reading, states.length - 1)]!, reading };
    },
    progress: (t) => statusProgress(t.state),
    isTerminal: (t) => t.state !== 'running',
    cancel: async () => {
      calls.push('cancel');
      cancelledAt = readings - 1;
      if (options.cancelFails) throw new Error('the task is not cancellable now');
    },
  };
  return { task, calls };
}

const soon = () => ({ startedAtMs: epochMs(), timeoutMs: 60_000, intervalMs: 1 });
// Started long enough ago that the first reading is already past the timeout.
const late = () => ({ startedAtMs: epochMs() - 1000, timeoutMs: 10, intervalMs: 1 });

describe(pollTask, () => {
  test('a task that completes: polled until it says so, one sample per reading, never cancelled', async () => {
    const { task, calls } = fakeTask(['running', 'running', 'success']);
    const before = epochMs();
    const polled = await pollTask(task, soon());
    expect(polled.final).toEqual({ state: 'success', reading: 2 });
    expect(polled.cancelled).toBe(false);
    expect(calls).toEqual(['read', 'read', 'read']);
    expect(polled.timeline.map((s) => s.status)).toEqual(['running', 'running', 'success']);
    // Times from the start, in order, and no later than now.
    const tMs = polled.timeline.map((s) => s.tMs);
    expect(tMs).toEqual([...tMs].sort((a, b) => a - b));
    expect(tMs[0]).toBeGreaterThanOrEqual(0);
    expect(tMs.at(-1)!).toBeLessThanOrEqual(epochMs() - before + 1);
  });

  test('samples are the progress each reading shows, in the timeline format', async () => {
    const { task } = fakeTask(['running', 'success']);
    const polled = await pollTask({ ...task, progress: (t) => ({ ...statusProgress(t.state), transferredBytes: 1000 * (t.reading + 1) }) }, soon());
    expect(polled.timeline).toEqual([
      expect.objectContaining({ status: 'running', transferredBytes: 1000, remainingBytes: null }),
      expect.objectContaining({ status: 'success', transferredBytes: 2000, remainingBytes: null }),
    ]);
  });

  test('it waits the interval between readings, not after the last', async () => {
    const { task } = fakeTask(['running', 'running', 'success']);
    const startedAtMs = epochMs();
    const polled = await pollTask(task, { startedAtMs, timeoutMs: 60_000, intervalMs: 40 });
    const [first, second, third] = polled.timeline.map((s) => s.tMs) as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(35);
    expect(third - second).toBeGreaterThanOrEqual(35);
    expect(epochMs() - startedAtMs - third).toBeLessThan(35);
  });

  test('a task that fails is a final reading like any other; the caller reads why', async () => {
    const { task, calls } = fakeTask(['running', 'failed']);
    const polled = await pollTask(task, soon());
    expect(polled).toMatchObject({ final: { state: 'failed' }, cancelled: false });
    expect(calls).not.toContain('cancel');
  });

  test('a task that runs past the timeout is cancelled once, and polled until it says it ended', async () => {
    const { task, calls } = fakeTask(['running'], { honoursCancel: true });
    const polled = await pollTask(task, late());
    expect(polled).toMatchObject({ final: { state: 'cancelled' }, cancelled: true });
    expect(calls).toEqual(['read', 'cancel', 'read']);
    expect(polled.timeline.map((s) => s.status)).toEqual(['running', 'cancelled']);
  });

  test('a final reading is not cancelled, even past the timeout: the task has ended', async () => {
    const { task, calls } = fakeTask(['success']);
    const polled = await pollTask(task, late());
    expect(polled).toMatchObject({ final: { state: 'success' }, cancelled: false });
    expect(calls).toEqual(['read']);
  });

  test('a task still running after the cancel is not cancelled again', async () => {
    const { task, calls } = fakeTask(['running', 'running', 'running', 'success']);
    const polled = await pollTask(task, late());
    expect(calls).toEqual(['read', 'cancel', 'read', 'read', 'read']);
    // The task completed after all: it is the task's end that is reported, with the cancel that was asked.
    expect(polled).toMatchObject({ final: { state: 'success' }, cancelled: true });
  });

  test('a cancel that fails does not end the polling: the task is followed to its own end', async () => {
    const { task, calls } = fakeTask(['running', 'running', 'failed'], { cancelFails: true });
    const polled = await pollTask(task, late());
    expect(calls).toEqual(['read', 'cancel', 'read', 'read']);
    expect(polled).toMatchObject({ final: { state: 'failed' }, cancelled: true });
  });

  test('a reading that fails ends the polling with its error', async () => {
    const { task } = fakeTask(['running']);
    let readings = 0;
    const failing = { ...task, read: async () => (readings++ < 2 ? task.read() : Promise.reject(new Error('task.get_record: HANDLE_INVALID'))) };
    await expect(pollTask(failing, soon())).rejects.toThrow('task.get_record: HANDLE_INVALID');
    expect(readings).toBe(3);
  });
});
