import { describe, expect, test } from 'vitest';
import type { Environment } from '../../src/generated/results.js';
import type { MigrationOutcome } from '../../src/hypervisors/hypervisor.js';
import type { Heartbeat } from '../../src/probes/agent.js';
import { buildIntegrity, buildRecord, type IntegrityData, type RecordParts } from '../../src/engine/record.js';
import { MigbenchError } from '../../src/model/errors.js';
import { validateRecordSchema } from '../../src/model/schema.js';
import { scenarioFor } from '../fixtures.js';

const T0 = 1_795_602_417_000;
const host = { host: 'h', kernel: '6.1', cpuModel: 'cpu', cpuCount: 2, hypervisorVersion: 'QEMU 7.2.22', accel: 'tcg' };
const environment: Environment = { migbenchVersion: '0.1.0', gitSha: null, nodeVersion: 'v20', source: host, destination: host };

const outcome: MigrationOutcome = {
  status: 'completed',
  error: null,
  startedAtMs: T0,
  endedAtMs: T0 + 650,
  storage: null,
  figures: {
    totalTimeMs: 640,
    downtimeMs: 7,
    setupTimeMs: 1,
    transferredBytes: 94_000_000,
    iterations: 3,
    dirtyRatePagesPerSec: 0,
    stopToResumeMs: 20,
    mirrorTimeMs: null,
    diskBytes: null,
  },
  timeline: [
    { tMs: 50, status: 'active', transferredBytes: 1, remainingBytes: 2, totalBytes: 3, dirtyRatePagesPerSec: 0, bandwidthMbps: 1000, iteration: 1, expectedDowntimeMs: 300 },
  ],
  events: [{ side: 'source', name: 'STOP', tMs: 630 }],
  parameters: { downtimeLimitMs: 300 },
  capabilities: ['events'],
};

// Replies every 2 ms from -1000 ms to +2000 ms around the migrate command; the last before
// the outage at +630, the first after at +692.
const replies = Array.from({ length: 1500 }, (_, i) => ({ seq: i + 1, sentMs: null, atMs: T0 - 1000 + i * 2 })).filter((r) => r.atMs - T0 < 632 || r.atMs - T0 > 690);
// Heartbeats every 1 ms, silent 633..700 on the host clock; the guest clock moved 4 ms over it.
const beats: Heartbeat[] = [];
for (let t = -1000, seq = 1, guestUs = 5_000_000; t < 2000; t++) {
  if (t > 633 && t < 700) continue;
  beats.push({ seq: seq++, guestUs, atMs: T0 + t, side: t < 633 ? 'source' : 'destination' });
  guestUs += t === 633 ? 4000 : 1000;
}

const integrity: IntegrityData = {
  location: 'destination',
  answering: true,
  restarted: false,
  panicked: false,
  consoleFault: null,
  hypervisorStatus: 'running',
  verification: { startSeq: 2900, pagesChecked: 4096, badPages: 0, firstBadPage: null, passMs: 80, atMs: T0 + 3000, side: 'destination' },
  dirtierBadPages: 0,
  hasAgent: true,
  diskVerification: { startSeq: 2900, blocksChecked: 16384, badBlocks: 0, firstBadBlock: null, passMs: 300, atMs: T0 + 3100, side: 'destination' },
  hasDisk: true,
  diskWriteErrors: 0,
};

function parts(overrides: Partial<RecordParts> = {}): RecordParts {
  return {
    id: 'mbabc123',
    suite: 'memory-migration',
    test: 'idle #1',
    scenario: scenarioFor({}),
    repetition: 1,
    hypervisor: 'qemu',
    startedAt: new Date(T0).toISOString(),
    outcome,
    probe: { tool: 'migbench-probe', address: '10.77.0.100', intervalMs: 2, gapThresholdMs: 20, replies, totals: { sent: 1500, received: replies.length }, stoppedAtMs: T0 + 2000 },
    heartbeat: { periodMs: 1, gapThresholdMs: 20, beats, stoppedAtMs: T0 + 2000 },
    wire: { host: 'src', interface: 'mig0', delta: { txBytes: 94_500_000, rxBytes: 70_000, txPackets: 1600, rxPackets: 1000 } },
    integrity,
    flows: { ram: 94_400_000 },
    link: null,
    guestBlocksWritten: null,
    axes: null,
    environment,
    workarounds: [],
    error: undefined,
    phase: 'verify',
    ...overrides,
  };
}

describe(buildRecord, () => {
  test('the three views of downtime, wire and hypervisor bytes, each with its source', () => {
    const record = buildRecord(parts());
    expect(validateRecordSchema(record), JSON.stringify(validateRecordSchema.errors)).toBe(true);
    expect(record.metrics).toEqual({
      totalTimeMs: 640,
      wallTimeMs: 650,
      downtimeMs: 7,
      downtimeNetMs: null,
      observedDowntimeMs: 62,
      guestPauseMs: 67,
      setupTimeMs: 1,
      transferredBytes: 94_000_000,
      wireBytes: 94_570_000,
      iterations: 3,
      dirtyRatePagesPerSec: 0,
      stopToResumeMs: 20,
      mirrorTimeMs: null,
      diskBytes: null,
      wireRamBytes: 94_400_000,
      // A memory migration copies no disk: its disk flow is not reported even if counted.
      wireDiskBytes: null,
      // Here the switchover silence is the largest one too.
      observedSwitchoverMs: 62,
      guestSwitchoverPauseMs: 67,
    });
    expect(record.metricSources).toMatchObject({
      totalTimeMs: 'hypervisor',
      wallTimeMs: 'runner',
      observedDowntimeMs: 'probe',
      guestPauseMs: 'guest',
      wireBytes: 'wire',
      wireRamBytes: 'wire',
    });
    expect(record.storage).toBeNull();
    expect(record.probe).toMatchObject({ sent: 1500, received: replies.length, lossCount: 1500 - replies.length, baselineLargestGapMs: 2, largestGapMs: 62 });
    expect(record.heartbeat).toMatchObject({ largestGapMs: 67, guestClockGapMs: 4 });
    expect(record.status).toBe('completed');
    expect(record.error).toBeNull();
  });

  test('a migration that never started: failed, every metric null, the error and its phase kept', () => {
    const record = buildRecord(
      parts({
        outcome: null,
        probe: null,
        heartbeat: null,
        wire: null,
        flows: null,
        error: new MigbenchError('MB_GUEST', 'guest did not boot', { context: { host: 'lab src' } }),
        phase: 'start-guest',
        integrity: { ...integrity, answering: false, hypervisorStatus: 'unknown', verification: null },
      }),
    );
    expect(validateRecordSchema(record)).toBe(true);
    expect(record.status).toBe('failed');
    expect(record.error).toEqual({ code: 'MB_GUEST', message: 'guest did not boot', phase: 'start-guest', host: 'lab src' });
    expect(Object.values(record.metrics).every((v) => v === null)).toBe(true);
    expect(record.metricSources).toEqual({});
  });

  test('a storage migration: the mirror phase, the disk bytes and the wire split into RAM and disk', () => {
    const storageScenario = scenarioFor({ migration: { kind: 'storage', timeoutMs: 60_000 } });
    const storageOutcome: MigrationOutcome = {
      ...outcome,
      storage: { mirrorStartedAtMs: T0 - 200, mirrorReadyAtMs: T0 - 1, jobLenBytes: 270_729_216, jobOffsetBytes: 270_729_216, cancelMs: 7.5 },
      figures: { ...outcome.figures, totalTimeMs: 840, mirrorTimeMs: 199, diskBytes: 270_729_216 },
    };
    const record = buildRecord(parts({ scenario: storageScenario, outcome: storageOutcome, flows: { ram: 94_400_000, disk: 69_000_000 }, guestBlocksWritten: 838 }));
    expect(validateRecordSchema(record), JSON.stringify(validateRecordSchema.errors)).toBe(true);
    expect(record.kind).toBe('storage');
    expect(record.metrics).toMatchObject({ totalTimeMs: 840, mirrorTimeMs: 199, diskBytes: 270_729_216, wireRamBytes: 94_400_000, wireDiskBytes: 69_000_000, wallTimeMs: 850 });
    expect(record.storage).toEqual({ mirrorStartMs: -200, mirrorReadyMs: -1, jobLenBytes: 270_729_216, jobOffsetBytes: 270_729_216, cancelMs: 7.5, guestBlocksWritten: 838 });
  });

  test('a cancelled migration keeps the hypervisor’s reason', () => {
    const cancelled = { ...outcome, status: 'cancelled' as const, error: new MigbenchError('MB_TIMEOUT', 'did not complete within 3000 ms') };
    expect(buildRecord(parts({ outcome: cancelled })).error).toMatchObject({ code: 'MB_TIMEOUT', phase: 'migrate' });
  });
});

describe(buildIntegrity, () => {
  test('intact only when alive, not restarted, not panicked and verified clean', () => {
    expect(buildIntegrity(integrity)).toEqual({
      location: 'destination',
      guestAlive: true,
      restarted: false,
      memoryIntact: true,
      pagesChecked: 4096,
      badPages: 0,
      diskIntact: true,
      blocksChecked: 16384,
      badBlocks: 0,
      problem: null,
    });
  });

  test('a disk that does not read back as written, or lost writes, is damage; a guest without disk data has nothing to check', () => {
    expect(buildIntegrity({ ...integrity, diskVerification: { ...integrity.diskVerification!, badBlocks: 5 } })).toMatchObject({
      guestAlive: true,
      memoryIntact: true,
      diskIntact: false,
      badBlocks: 5,
      problem: '5 disk blocks do not read back as written',
    });
    expect(buildIntegrity({ ...integrity, diskVerification: { ...integrity.diskVerification!, badBlocks: 2, firstBadBlock: 8192 } })).toMatchObject({
      diskIntact: false,
      firstBadBlock: 8192,
      problem: '2 disk blocks do not read back as written (first: block 8192)',
    });
    expect(buildIntegrity({ ...integrity, diskWriteErrors: 2 })).toMatchObject({ diskIntact: false, problem: '2 disk writes failed in the guest' });
    expect(buildIntegrity({ ...integrity, diskVerification: null })).toMatchObject({ diskIntact: null, problem: 'the agent did not report a disk verification pass' });
    expect(buildIntegrity({ ...integrity, hasDisk: false, diskVerification: null })).toMatchObject({ diskIntact: null, blocksChecked: null, problem: null });
  });

  test('a guest that restarted is neither alive nor intact, whatever its fresh memory says', () => {
    const i = buildIntegrity({ ...integrity, restarted: true });
    expect(i).toMatchObject({ guestAlive: false, restarted: true, memoryIntact: false });
    expect(i.problem).toMatch(/restarted/);
  });

  test('panic, silence, damaged pages and a missing verification are all named', () => {
    expect(buildIntegrity({ ...integrity, panicked: true, hypervisorStatus: 'guest-panicked', answering: false, verification: null }).problem).toBe(
      'guest kernel panicked on the destination; guest stopped answering on the destination (probe or heartbeat silent)',
    );
    expect(buildIntegrity({ ...integrity, dirtierBadPages: 3 })).toMatchObject({ memoryIntact: false, badPages: 3, problem: '3 damaged memory pages' });
    expect(buildIntegrity({ ...integrity, verification: { ...integrity.verification!, badPages: 1, firstBadPage: 1234 } })).toMatchObject({
      memoryIntact: false,
      badPages: 1,
      firstBadPage: 1234,
      problem: '1 damaged memory pages (first: page 1234)',
    });
    expect(buildIntegrity(integrity)).not.toHaveProperty('firstBadPage');
    expect(buildIntegrity({ ...integrity, verification: null })).toMatchObject({ memoryIntact: null, problem: 'the agent did not report a verification pass' });
    expect(buildIntegrity({ ...integrity, hasAgent: false, verification: null })).toMatchObject({ guestAlive: true, memoryIntact: null, problem: null });
  });

  test("a silent guest's console says why, where it was lost; the fault alone is not proof of damaged memory", () => {
    const i = buildIntegrity({ ...integrity, answering: false, verification: null, consoleFault: 'BUG: scheduling while atomic: migbench-agent/102/0x00000000' });
    expect(i).toMatchObject({ guestAlive: false, memoryIntact: null });
    expect(i.problem).toBe(
      'guest stopped answering on the destination (probe or heartbeat silent); its console on the destination: "BUG: scheduling while atomic: migbench-agent/102/0x00000000"',
    );
  });
});
