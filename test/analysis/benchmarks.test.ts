// The benchmark's arithmetic and rendering, from small figures whose answers are known.
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, test } from 'vitest';
import { linearFit, noiseFloor, pauseAccuracy, type BenchResults, type MigrationSample } from '../../src/analysis/benchmarks.js';
import { renderBenchmarks, scatterSvg } from '../../src/render/benchmarks.js';

const sample = (over: Partial<MigrationSample>): MigrationSample => ({
  memoryMiB: 256,
  dirtyRateMBps: 0,
  status: 'completed',
  totalTimeMs: 1000,
  downtimeMs: 10,
  observedDowntimeMs: 100,
  transferredBytes: 96 * 1024 * 1024,
  iterations: 3,
  runnerWallMs: 30_000,
  migrateWallMs: 1100,
  ...over,
});

describe(linearFit, () => {
  test('an exact line, a noisy one, and too little to fit', () => {
    const exact = linearFit([
      [128, 600],
      [256, 700],
      [512, 900],
    ])!;
    expect(exact.slope).toBeCloseTo(200 / 256, 12);
    expect(exact.intercept).toBeCloseTo(500, 9);
    expect(exact.r2).toBeCloseTo(1, 12);
    const noisy = linearFit([
      [1, 1],
      [2, 3],
      [3, 2],
    ])!;
    expect(noisy.slope).toBeCloseTo(0.5);
    expect(noisy.r2).toBeCloseTo(0.25);
    expect(linearFit([[1, 1]])).toBeNull();
    expect(
      linearFit([
        [2, 1],
        [2, 5],
      ]),
    ).toBeNull();
  });
});

describe(pauseAccuracy, () => {
  test('errors per pause length: raw, without the wake-up, and the heartbeat residual', () => {
    const [a] = pauseAccuracy([
      { requestedMs: 100, pausedMs: 101, probeGapMs: 106, heartbeatGapMs: 104, guestClockGapMs: 2 },
      { requestedMs: 100, pausedMs: 102, probeGapMs: 110, heartbeatGapMs: 106, guestClockGapMs: 3 },
      { requestedMs: 100, pausedMs: 100, probeGapMs: null, heartbeatGapMs: 103, guestClockGapMs: 2 },
    ]);
    expect(a!.requestedMs).toBe(100);
    expect(a!.probeError).toMatchObject({ n: 2, max: 8 });
    expect(a!.probeErrorAwake).toMatchObject({ n: 2, max: 5 });
    expect(a!.heartbeatError).toMatchObject({ n: 3, max: 1 });
  });
});

describe(noiseFloor, () => {
  test('CV, MDE at n=5 and the harness overhead from completed runs only', () => {
    const n = noiseFloor([
      sample({ totalTimeMs: 900, migrateWallMs: 1000 }),
      sample({ totalTimeMs: 1000, migrateWallMs: 1080 }),
      sample({ totalTimeMs: 1100, migrateWallMs: 1200 }),
      sample({ status: 'failed', totalTimeMs: 99_999 }),
    ]);
    expect(n.n).toBe(3);
    expect(n.totalTimeCvPct).toBeCloseTo(10);
    expect(n.totalTimeMdePctAt5).toBeCloseTo(2.8 * 0.1 * Math.sqrt(2 / 5) * 100);
    expect(n.harnessOverheadMs.median).toBe(100);
  });
});

describe(renderBenchmarks, () => {
  const results: BenchResults = {
    schema: 'migbench-bench/1',
    environment: { cpuModel: 'Test CPU', cpuCount: 2, accel: 'tcg', hypervisorVersion: 'QEMU 7.2.22', kernel: '6.1', node: 'v20', date: '2026-12-04T18:00:00Z' },
    probeIntervalMs: 2,
    heartbeatMs: 1,
    labUpMs: 900,
    bootToReachableMs: 9000,
    pauses: [{ requestedMs: 50, pausedMs: 51, probeGapMs: 56, heartbeatGapMs: 53, guestClockGapMs: 1.5 }],
    probeCost: { intervalMs: 2, seconds: 10, cpuSeconds: 0.12, replies: 4980 },
    noise: [sample({}), sample({ totalTimeMs: 1020 })],
    memoryScaling: [
      sample({ memoryMiB: 128, totalTimeMs: 700 }),
      sample({}),
      sample({ memoryMiB: 512, totalTimeMs: 1300 }),
      sample({ dirtyRateMBps: 32, totalTimeMs: 1500 }),
      sample({ memoryMiB: 512, dirtyRateMBps: 32, totalTimeMs: 2100 }),
    ],
    dirtyScaling: [sample({ dirtyRateMBps: 8 }), sample({ dirtyRateMBps: 64, status: 'cancelled', totalTimeMs: null })],
    dirtyScalingBandwidthMiBps: 32,
    compare: { scenarios: 1000, samples: 30, ms: 700 },
    benchWallMs: 600_000,
  };

  test('every target row with its verdict, the machine, and the plots', () => {
    const { markdown, plots } = renderBenchmarks(results);
    expect(markdown).toContain('Test CPU × 2; accelerator: **tcg**');
    expect(markdown).toMatch(/observed-downtime accuracy .*\| ≤ 4 ms \(2 ms \+ interval\) \| 5\.0 ms raw; 3\.5 ms without the guest's wake-up \| \*\*does not hold\*\*/);
    expect(markdown).toMatch(/probe cost at its interval .*\| 1\.20 % at 2 ms .*\| holds/);
    expect(markdown).toMatch(/lab up, then a booted reachable guest .*\| 0\.90 s \+ 9\.00 s = 9\.90 s \| holds/);
    expect(markdown).toMatch(/first not converging at 64 MB\/s \(32 MiB\/s link\)/);
    expect(markdown).toMatch(/idle: slope 1\.51 ms\/MiB, intercept 550, r² 0\.964 \(n=3\)/);
    expect(plots.map((p) => p.file)).toEqual(['bench/memory-total-time.svg', 'bench/memory-bytes.svg', 'bench/dirty-rate.svg', 'bench/pause-accuracy.svg']);
    for (const p of plots) expect(XMLValidator.validate(p.svg)).toBe(true);
    // Every table row has as many cells as its header: no "|" leaks out of a cell.
    for (const block of markdown.split('\n\n').filter((b) => b.startsWith('| '))) {
      const cells = block.split('\n').map((row) => row.split('|').length);
      expect(new Set(cells).size, block).toBe(1);
    }
  });

  test('a plot escapes its labels', () => {
    expect(
      scatterSvg('a < b & "c"', 'x', 'y', [
        {
          name: '<idle>',
          points: [
            [1, 2],
            [2, 4],
          ],
          color: '#000',
        },
      ]),
    ).toContain('a &lt; b &amp;');
  });
});
