// The watch after a migration ends once the probes are steady again (steadyReplies
// consecutive replies and heartbeats), not after fixed seconds (the lead-in before stays
// fixed: phases.ts says why). Evidence that this loses
// nothing: migrations watched with the old fixed windows (1 s before, 2 s after) show every
// gap of the probe and of the heartbeat starting no later than the end of the migration's
// largest gap plus the steady stretch the adaptive window waits for. A gap later than that
// is one an adaptive window could have missed, and fails the test.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runMigration } from '../../src/engine/migration.js';
import { connectTarget, type ConnectedTarget } from '../../src/engine/target.js';
import type { Gap, MigrationRecord } from '../../src/generated/results.js';
import { DEFAULT_PROBE } from '../../src/model/scenario.js';
import { scenario } from './helpers.js';

const SCENARIOS = {
  'idle-256': '{ name: idle-256, guest: { memoryMiB: 256 }, migration: { kind: memory }',
  'dirty-64m-32mbps': '{ name: dirty-64m-32mbps, guest: { memoryMiB: 256 }, workload: { memory: { workingSetMiB: 64, dirtyRateMBps: 32 } }, migration: { kind: memory }',
  'storage-idle-256': '{ name: storage-idle-256, guest: { memoryMiB: 256 }, migration: { kind: storage }',
};

/**
 * How long after the migration was over (the final status seen: `wallTimeMs` after the
 * migrate command) each gap that began later began, ms. Gaps that began before lie in the
 * migration and settle windows, which are watched to their end whatever the rule.
 */
function lateness(gaps: readonly Gap[], wallTimeMs: number): number[] {
  return gaps.filter((g) => g.startMs > wallTimeMs).map((g) => g.startMs - wallTimeMs);
}

describe('quiet windows', () => {
  let target: ConnectedTarget;
  const fixed = new Map<string, MigrationRecord>();
  let adaptive: MigrationRecord;

  beforeAll(async () => {
    const { config } = scenario(`      - ${SCENARIOS['idle-256']} }\n`);
    target = await connectTarget(config, 'lab');
    for (const [name, yaml] of Object.entries(SCENARIOS)) {
      const { scenario: fixedWindows } = scenario(`      - ${yaml}, probe: { steadyReplies: 0, leadInMs: 1000, observeAfterMs: 2000 } }\n`);
      fixed.set(name, await runMigration(target, { scenario: fixedWindows, suite: 'it', test: name, repetition: 1 }));
    }
    adaptive = await runMigration(target, { scenario: scenario(`      - ${SCENARIOS['idle-256']} }\n`).scenario, suite: 'it', test: 'adaptive', repetition: 1 });
  });
  afterAll(async () => target?.close());

  test.each(Object.keys(SCENARIOS))('%s watched for 2 s after: no gap starts later than the steady stretch an adaptive window waits for', (name) => {
    const record = fixed.get(name)!;
    expect(record.status, record.error?.message).toBe('completed');
    // The adaptive window ends once both signals were steady since it began: at least this long after the guest answered.
    const marginMs = Math.max(DEFAULT_PROBE.steadyReplies * DEFAULT_PROBE.intervalMs, DEFAULT_PROBE.steadyReplies * DEFAULT_PROBE.heartbeatMs);
    const wall = record.metrics.wallTimeMs!;
    for (const [what, gaps] of [
      ['probe', record.probe!.gaps],
      ['heartbeat', record.heartbeat!.gaps],
    ] as const) {
      for (const late of lateness(gaps, wall)) expect(late, `${what} gaps of ${name} (migration over at ${wall} ms): ${JSON.stringify(gaps)}`).toBeLessThan(marginMs);
    }
  });

  test('the adaptive watch-after is shorter than the fixed one and still closes the largest gap with a steady stretch after it', () => {
    expect(adaptive.status, adaptive.error?.message).toBe('completed');
    const idle = fixed.get('idle-256')!;
    expect(adaptive.harnessMs!.observeMs!).toBeLessThan(idle.harnessMs!.observeMs! - 1000);
    const probe = adaptive.probe!;
    const largest = probe.gaps.find((g) => g.durationMs === probe.largestGapMs)!;
    expect(largest.open).toBe(false);
    expect(probe.largestGapMs).toBe(adaptive.metrics.observedDowntimeMs);
  });
});
