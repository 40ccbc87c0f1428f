// The benchmark of migbench itself: what `npm run bench` measured (bench/results.json) and
// how it becomes BENCHMARKS.md and its plots. Measuring happens in scripts/bench.ts through
// migbench's public code paths; everything here is pure, so it is tested from figures.
import { coefficientOfVariation, median, percentile } from './stats.js';
import { minimumDetectableEffectPct } from './significance.js';

export interface BenchEnvironment {
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly accel: string;
  readonly hypervisorVersion: string;
  readonly kernel: string;
  readonly node: string;
  readonly date: string;
}

/** One injected pause: QEMU's STOP→RESUME, and what the probe and the heartbeat saw. */
export interface PauseSample {
  readonly requestedMs: number;
  readonly pausedMs: number;
  readonly probeGapMs: number | null;
  readonly heartbeatGapMs: number | null;
  /** The guest's own clock across the heartbeat gap: the time it ran without beating, wake-up included. */
  readonly guestClockGapMs: number | null;
}

export interface MigrationSample {
  readonly memoryMiB: number;
  readonly dirtyRateMBps: number;
  readonly status: string;
  readonly totalTimeMs: number | null;
  readonly downtimeMs: number | null;
  readonly observedDowntimeMs: number | null;
  readonly transferredBytes: number | null;
  readonly iterations: number | null;
  /** runMigration's wall time, boot and teardown included. */
  readonly runnerWallMs: number;
  /** From the migrate command to the status the runner saw. */
  readonly migrateWallMs: number | null;
  /** The record's harnessMs: the runner's wall time per engine phase (absent in older bench files). */
  readonly harnessMs?: Readonly<Record<string, number>>;
  /** The scenario's configured lead-in and watch-after windows, ms. */
  readonly windowsMs?: number;
  /** What went wrong, when the run did not complete (code, phase, message). */
  readonly error?: string;
  /** fresh: the guest was booted for this sample; reused: a kept guest migrated again (absent in older bench files). */
  readonly boot?: 'fresh' | 'reused';
  /** The guest (its boot) the sample migrated: samples of a kept guest share it. */
  readonly guestId?: string;
  /** SSH channels opened to both hosts for the sample (the record's sshChannels, summed). */
  readonly sshChannels?: number;
}

export interface BenchResults {
  readonly schema: 'migbench-bench/1';
  readonly environment: BenchEnvironment;
  readonly probeIntervalMs: number;
  readonly heartbeatMs: number;
  readonly labUpMs: number | null;
  readonly bootToReachableMs: number | null;
  readonly pauses: readonly PauseSample[];
  readonly probeCost: { readonly intervalMs: number; readonly seconds: number; readonly cpuSeconds: number; readonly replies: number } | null;
  readonly noise: readonly MigrationSample[];
  readonly memoryScaling: readonly MigrationSample[];
  readonly dirtyScaling: readonly MigrationSample[];
  readonly dirtyScalingBandwidthMiBps: number | null;
  readonly compare: { readonly scenarios: number; readonly samples: number; readonly ms: number } | null;
  /** The compare-speed step did not finish within this many seconds (it was stopped). */
  readonly compareNotFinishedS?: number;
  /** `migbench run` of the default suites, wall time; absent where the bench did not run it. */
  readonly defaultSuiteMs?: number | null;
  /**
   * The idle-256 noise floor of a kept guest migrated back and forth (five samples a boot),
   * interleaved with `noise` (a fresh boot per sample, the default); absent in older bench files.
   */
  readonly noiseKept?: readonly MigrationSample[];
  /** The same, a kept guest on a target whose QEMUs and probes are pinned to CPUs (`pinnedCpus`), interleaved with the others. */
  readonly noisePinned?: readonly MigrationSample[];
  readonly pinnedCpus?: { readonly source: string; readonly destination: string; readonly probes: string };
  /** The default A/B gate: `migbench run --ab` of the default suites, both sides the same config, n runs a side. */
  readonly abGate?: { readonly ms: number; readonly exitCode: number | null; readonly scenarios: number; readonly repeat: number };
  /** Two `migbench run` started at once on this machine. */
  readonly concurrentRuns?: { readonly exitCodes: ReadonlyArray<number | null>; readonly waited: boolean; readonly ms: number };
  readonly benchWallMs: number;
}

export interface Spread {
  readonly n: number;
  readonly median: number | null;
  readonly p10: number | null;
  readonly p90: number | null;
  readonly max: number | null;
}

export function spread(xs: readonly number[]): Spread {
  const abs = xs.map(Math.abs);
  return { n: xs.length, median: median(xs), p10: percentile(xs, 10), p90: percentile(xs, 90), max: abs.length ? Math.max(...abs) : null };
}

export interface PauseAccuracy {
  readonly requestedMs: number;
  /** Probe gap − QEMU's pause. */
  readonly probeError: Spread;
  /** The same less the guest's wake-up (its own clock): the probe's share. */
  readonly probeErrorAwake: Spread;
  /** Heartbeat gap − pause − the guest's clock gap: the hosts' timestamping error. */
  readonly heartbeatError: Spread;
}

const finite = (xs: ReadonlyArray<number | null>): number[] => xs.filter((x): x is number => x !== null && Number.isFinite(x));

export function pauseAccuracy(pauses: readonly PauseSample[]): PauseAccuracy[] {
  const requested = [...new Set(pauses.map((p) => p.requestedMs))].sort((a, b) => a - b);
  return requested.map((requestedMs) => {
    const ps = pauses.filter((p) => p.requestedMs === requestedMs);
    return {
      requestedMs,
      probeError: spread(finite(ps.map((p) => (p.probeGapMs === null ? null : p.probeGapMs - p.pausedMs)))),
      probeErrorAwake: spread(finite(ps.map((p) => (p.probeGapMs === null || p.guestClockGapMs === null ? null : p.probeGapMs - p.pausedMs - p.guestClockGapMs)))),
      heartbeatError: spread(finite(ps.map((p) => (p.heartbeatGapMs === null || p.guestClockGapMs === null ? null : p.heartbeatGapMs - p.pausedMs - p.guestClockGapMs)))),
    };
  });
}

export interface LinearFit {
  readonly slope: number;
  readonly intercept: number;
  readonly r2: number;
  readonly n: number;
}

/** Least squares y = slope·x + intercept, with r². Null below two distinct x. */
export function linearFit(points: ReadonlyArray<readonly [number, number]>): LinearFit | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const syy = points.reduce((s, [, y]) => s + (y - my) ** 2, 0);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), n };
}

export interface NoiseFloor {
  readonly n: number;
  readonly totalTimeCvPct: number | null;
  readonly downtimeCvPct: number | null;
  readonly observedDowntimeCvPct: number | null;
  /** Smallest change a comparison at n = 5 a side can tell from noise (total time). */
  readonly totalTimeMdePctAt5: number | null;
  readonly observedDowntimeMdePctAt5: number | null;
  readonly harnessOverheadMs: Spread;
  /** The definition: runMigration's wall time less the hypervisor's total time. */
  readonly wallLessTotalMs: Spread;
  /** Of that, the guest's boot to first heartbeat and probe reply. */
  readonly bootMs: Spread;
  /** Of that, the configured quiet windows (lead-in and watch after). */
  readonly windowsMs: Spread;
  /** The rest: migbench's own commands, status polling, verification and teardown. */
  readonly ownMs: Spread;
  /** SSH channels opened to both hosts per migration. */
  readonly sshChannels: Spread;
}

const pct = (x: number | null) => (x === null ? null : x * 100);

export function noiseFloor(samples: readonly MigrationSample[]): NoiseFloor {
  const ok = samples.filter((s) => s.status === 'completed');
  const total = finite(ok.map((s) => s.totalTimeMs));
  const observed = finite(ok.map((s) => s.observedDowntimeMs));
  const totalCv = coefficientOfVariation(total);
  const observedCv = coefficientOfVariation(observed);
  return {
    n: ok.length,
    totalTimeCvPct: pct(totalCv),
    downtimeCvPct: pct(coefficientOfVariation(finite(ok.map((s) => s.downtimeMs)))),
    observedDowntimeCvPct: pct(observedCv),
    totalTimeMdePctAt5: minimumDetectableEffectPct(totalCv, 5),
    observedDowntimeMdePctAt5: minimumDetectableEffectPct(observedCv, 5),
    // What migbench spends around QEMU's migration: the migrate command to the status it saw, less QEMU's total time.
    harnessOverheadMs: spread(finite(ok.map((s) => (s.migrateWallMs === null || s.totalTimeMs === null ? null : s.migrateWallMs - s.totalTimeMs)))),
    wallLessTotalMs: spread(finite(ok.map((s) => wallLessTotal(s)))),
    bootMs: spread(finite(ok.map((s) => s.harnessMs?.bootMs ?? null))),
    windowsMs: spread(finite(ok.map((s) => (s.harnessMs ? (s.windowsMs ?? null) : null)))),
    sshChannels: spread(finite(ok.map((s) => s.sshChannels ?? null))),
    ownMs: spread(
      finite(
        ok.map((s) => {
          const lessTotal = wallLessTotal(s);
          return lessTotal === null || s.harnessMs?.bootMs === undefined || s.windowsMs === undefined ? null : lessTotal - s.harnessMs.bootMs - s.windowsMs;
        }),
      ),
    ),
  };
}

function wallLessTotal(s: MigrationSample): number | null {
  const wall = s.harnessMs?.wallMs;
  return wall === undefined || s.totalTimeMs === null ? null : wall - s.totalTimeMs;
}

/** The samples one booted guest gave, summarized: how far apart boots are, against the spread within one. */
export interface BootSummary {
  readonly guestId: string;
  readonly n: number;
  readonly totalTimeMs: Spread;
  readonly downtimeMs: Spread;
  readonly transferredMiB: Spread;
}

/** Completed samples grouped by the guest (boot) they migrated, in order of first appearance. */
export function bootSummaries(samples: readonly MigrationSample[]): BootSummary[] {
  const boots = new Map<string, MigrationSample[]>();
  for (const s of samples) if (s.status === 'completed' && s.guestId) boots.set(s.guestId, [...(boots.get(s.guestId) ?? []), s]);
  return [...boots].map(([guestId, xs]) => ({
    guestId,
    n: xs.length,
    totalTimeMs: spread(finite(xs.map((s) => s.totalTimeMs))),
    downtimeMs: spread(finite(xs.map((s) => s.downtimeMs))),
    transferredMiB: spread(finite(xs.map((s) => (s.transferredBytes === null ? null : s.transferredBytes / 2 ** 20)))),
  }));
}

/** One metric of the idle-256 noise floor, kept guest against fresh boots. */
export interface ReuseEffect {
  readonly metric: string;
  readonly reusedMedian: number | null;
  readonly freshMedian: number | null;
  /** (reused − fresh) / fresh of the medians, %. */
  readonly deltaPct: number | null;
  /** The smallest change this many samples a side detect (the larger CV of the two). */
  readonly mdePct: number | null;
}

const REUSE_METRICS: ReadonlyArray<readonly [string, (s: MigrationSample) => number | null]> = [
  ['total ms', (s) => s.totalTimeMs],
  ['reported downtime ms', (s) => s.downtimeMs],
  ['observed downtime ms', (s) => s.observedDowntimeMs],
  ['transferred MiB', (s) => (s.transferredBytes === null ? null : s.transferredBytes / 2 ** 20)],
];

/** Whether reusing the guest moves what migbench measures: medians of both modes, and the MDE they can tell apart. */
export function reuseEffect(reused: readonly MigrationSample[], fresh: readonly MigrationSample[]): ReuseEffect[] {
  const ok = (xs: readonly MigrationSample[]) => xs.filter((s) => s.status === 'completed');
  return REUSE_METRICS.map(([metric, value]) => {
    const [r, fr] = [finite(ok(reused).map(value)), finite(ok(fresh).map(value))];
    const [rm, fm] = [median(r), median(fr)];
    const cvs = [coefficientOfVariation(r), coefficientOfVariation(fr)].filter((c): c is number => c !== null);
    return {
      metric,
      reusedMedian: rm,
      freshMedian: fm,
      deltaPct: rm === null || fm === null || fm === 0 ? null : ((rm - fm) / fm) * 100,
      mdePct: cvs.length ? minimumDetectableEffectPct(Math.max(...cvs), Math.min(r.length, fr.length)) : null,
    };
  });
}
