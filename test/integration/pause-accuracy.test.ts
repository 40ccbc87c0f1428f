// The probes measure what they claim: a guest paused for a known time (QMP stop/cont,
// no migration) must show up in the ICMP probe within 2 ms + 3 × the probe interval of
// the pause QEMU reports (STOP to RESUME events), once the guest's own wake-up is taken out.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { measurePauses, type PauseMeasurement } from '../../src/engine/calibration.js';
import { connectTarget, type ConnectedTarget } from '../../src/engine/target.js';
import { labConfig } from './helpers.js';

const PROBE_INTERVAL_MS = 2;
const HEARTBEAT_MS = 1;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('injected pause', () => {
  let target: ConnectedTarget;
  let pauses: PauseMeasurement[];

  beforeAll(async () => {
    target = await connectTarget(labConfig('      - { name: x, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n'), 'lab');
    pauses = await measurePauses(target, { pausesMs: Array.from({ length: 9 }, () => 300), probeIntervalMs: PROBE_INTERVAL_MS, heartbeatMs: HEARTBEAT_MS, tool: 'migbench-probe' });
    console.info(
      'injected pauses (ms): ' +
        pauses
          .map(
            (p) =>
              `paused ${p.pausedMs.toFixed(2)}, probe gap ${p.probe.gapMs?.toFixed(2)}, heartbeat gap ${p.heartbeat.gapMs?.toFixed(2)} (guest clock +${p.guestClockGapMs?.toFixed(2)})`,
          )
          .join('; '),
    );
  });
  afterAll(async () => target?.close());

  test('QEMU paused the guest for about the time asked', () => {
    // stop and cont travel over SSH, so a loaded runner can stretch a pause by tens of ms;
    // that does not weaken the checks below, which compare against the pause QEMU reports.
    for (const p of pauses) {
      expect(p.pausedMs).toBeGreaterThan(290);
      expect(p.pausedMs).toBeLessThan(500);
    }
  });

  test('the ICMP probe reports the pause within 2 ms + 3 × interval, once the guest is awake', () => {
    // The gap is the pause, plus up to one interval before STOP, plus the guest's wake-up
    // after RESUME and up to one interval to the next probe. The wake-up is the guest's, not
    // the probe's: 0.6–2.6 ms on an idle machine under TCG (CI, 35 pauses: raw errors +3.7 to
    // +7.6 ms), but 3–24 ms when other work shares the two cores (raw errors +4 to +18 ms,
    // median 11.6 ms, on 2026-12-04). The guest's own clock measures it (it stands still
    // while QEMU is paused), so the probe is judged on what is left.
    const bound = 2 + 3 * PROBE_INTERVAL_MS;
    const raw = pauses.map((p) => p.probe.gapMs! - p.pausedMs);
    // Raw, two-sided. Below: a probe gap can never be shorter than the pause (less a clock
    // tick). Above: BENCHMARKS.md's medians of the raw error were 3.3 to 4.8 ms for every
    // pause length in three npm run bench on 2026-12-07 (single pauses up to 7.3 ms idle,
    // 16.9 ms with other work on the cores; CI's worst of 35 was 7.6 ms). The median must stay
    // within the same 2 ms + 3 × interval (8 ms) as the wake-up-free error, a single pause
    // within four times that: a probe that timestamps late, or misses replies, breaks them.
    for (const e of raw) expect(e).toBeGreaterThan(-1);
    expect(median(raw), `raw errors ${raw.map((e) => e.toFixed(2)).join(', ')} ms`).toBeLessThanOrEqual(bound);
    for (const e of raw) expect(e).toBeLessThanOrEqual(4 * bound);
    const awake = pauses.map((p) => p.probe.gapMs! - p.pausedMs - p.guestClockGapMs!);
    expect(median(awake)).toBeLessThanOrEqual(bound);
    expect(median(awake)).toBeGreaterThanOrEqual(-bound);
    // The guest's clock gap also holds the heartbeat thread's own scheduling, so a single
    // pause gets four times the bound (as the heartbeat check below).
    for (const e of awake) expect(Math.abs(e)).toBeLessThanOrEqual(4 * bound);
  });

  test('heartbeat timestamps account for the pause within 2 ms + 2 × period', () => {
    // The heartbeat gap is the pause plus the time the guest ran without beating, which
    // its own clock measures (it stands still while QEMU is paused): what is left is
    // the error of the hosts' receive timestamps.
    const bound = 2 + 2 * HEARTBEAT_MS;
    const residuals = pauses.map((p) => p.heartbeat.gapMs! - p.pausedMs - p.guestClockGapMs!);
    for (const p of pauses) expect(p.heartbeat.gapMs!).toBeGreaterThan(p.pausedMs - 1);
    expect(Math.abs(median(residuals))).toBeLessThanOrEqual(bound);
    // One residual of 12.7 ms was seen under load (CI, 2026-12-04): the guest's clock read
    // 0.4 ms where the hosts saw 13 ms more; single pauses get four times the bound.
    for (const r of residuals) expect(Math.abs(r)).toBeLessThanOrEqual(4 * bound);
  });
});
