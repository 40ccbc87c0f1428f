// Real memory migrations in the lab, through the engine as the suites run them.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runMigration } from '../../src/engine/migration.js';
import type { MigrationRecord } from '../../src/generated/results.js';
import { LocalRunner } from '../../src/exec/local.js';
import { validateRecordSchema } from '../../src/model/schema.js';
import { connectTarget, type ConnectedTarget } from '../../src/engine/target.js';
import { labQemuPids, scenario } from './helpers.js';
import { parseConfig } from '../../src/config/load.js';
import { resolveScenarios } from '../../src/config/scenarios.js';

/** Running QEMUs of this worker's lab. */
async function qemuProcesses(): Promise<number> {
  return (await labQemuPids()).length;
}

describe('idle 256 MiB guest, memory migration', () => {
  const { config, scenario: idle } = scenario('      - { name: idle-256, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n');
  let target: ConnectedTarget;
  let record: MigrationRecord;

  beforeAll(async () => {
    target = await connectTarget(config, 'lab');
    record = await runMigration(target, { scenario: idle, suite: 'it', test: 'idle', repetition: 1 });
  });
  afterAll(async () => target?.close());

  test('completes and leaves the guest running intact on the destination', () => {
    expect(record.error).toBeNull();
    expect(record).toCompleteMigration();
    expect(record).toKeepGuestIntact();
    expect(record.integrity).toMatchObject({ location: 'destination', restarted: false, pagesChecked: 4096, badPages: 0 });
  });

  test('the record matches the results schema', () => {
    expect(validateRecordSchema(record), JSON.stringify(validateRecordSchema.errors)).toBe(true);
  });

  test('reported, observed and guest-perceived downtime are all measured, and the outside sees more than QEMU reports', () => {
    const m = record.metrics;
    for (const key of ['downtimeMs', 'observedDowntimeMs', 'guestPauseMs', 'stopToResumeMs'] as const) expect(m[key], key).toBeGreaterThan(0);
    // QEMU's downtime is its own source-side pause; the network and the guest see the switchover too.
    expect(m.observedDowntimeMs!).toBeGreaterThan(m.downtimeMs!);
    expect(m.guestPauseMs!).toBeGreaterThan(m.downtimeMs!);
    expect(record.metricSources).toMatchObject({ downtimeMs: 'hypervisor', observedDowntimeMs: 'probe', guestPauseMs: 'guest', wireBytes: 'wire' });
  });

  test('bytes on the migration link match what QEMU says it sent, plus protocol overhead', () => {
    const { transferredBytes, wireBytes } = record.metrics;
    expect(wireBytes!).toBeGreaterThanOrEqual(transferredBytes!);
    expect(wireBytes! / transferredBytes!).toBeLessThan(1.05);
    // An idle guest's zero pages are not sent: far less than its 256 MiB crosses.
    expect(transferredBytes!).toBeLessThan(200 * 1024 * 1024);
  });

  test('QEMU defaults in force are recorded, and the timeline was sampled all along (polled every 50 ms)', () => {
    expect(record.parameters).toMatchObject({ downtimeLimitMs: 300, maxBandwidthMiBps: 128 });
    expect(record.capabilities).toContain('events');
    const t = record.timeline.map((s) => s.tMs);
    expect(t.length).toBeGreaterThan(3);
    // A broken poll loop leaves gaps of seconds; a busy 2-core machine delays a poll by tens of ms.
    for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeLessThan(500);
    expect(record.timeline.at(-1)!.status).toBe('completed');
    expect(record.events.map((e) => `${e.side}:${e.name}`)).toEqual(expect.arrayContaining(['source:STOP', 'destination:RESUME']));
  });

  test('no QEMU is left running', async () => {
    expect(await qemuProcesses()).toBe(0);
  });
});

describe("a target's extra QEMU options", () => {
  const extraArgs = ['-cpu', 'qemu64,+ssse3', '-rtc', 'clock=vm'];
  const config = parseConfig(
    `targets:\n  tuned: { hypervisor: qemu, lab: true, qemu: { extraArgs: ${JSON.stringify(extraArgs)} } }\nsuites:\n  it:\n    scenarios:\n      - { name: tuned, target: tuned, guest: { memoryMiB: 256 }, migration: { kind: memory } }\n`,
    'tuned.yaml',
  );
  const idle = resolveScenarios(config, 'it')[0]!;
  let target: ConnectedTarget;
  let record: MigrationRecord;
  let commandLines: string[] = [];

  beforeAll(async () => {
    target = await connectTarget(config, 'tuned');
    record = await runMigration(target, {
      scenario: idle,
      suite: 'it',
      test: 'tuned',
      repetition: 1,
      // Both QEMUs run while the migration is under way: how were they started?
      afterMigration: async (guest) => {
        const found = await new LocalRunner().run(['pgrep', '-a', '-f', '--', `-name migbench-${guest.vmId} `], { check: false });
        commandLines = found.stdout.split('\n').filter((l) => / \S*qemu-system-x86_64 /.test(l));
      },
    });
  });
  afterAll(async () => target?.close());

  test("reach both hosts' QEMU after migbench's own, the migration completes, and the record says what the machine had", () => {
    expect(record.error).toBeNull();
    expect(record).toCompleteMigration();
    expect(record).toKeepGuestIntact();
    expect(commandLines).toHaveLength(2);
    for (const line of commandLines) expect(line).toContain(` ${extraArgs.join(' ')}`);
    expect(record.guest.qemuArgs).toEqual(extraArgs);
  });
});
