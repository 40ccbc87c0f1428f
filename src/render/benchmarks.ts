// BENCHMARKS.md and its plots, rendered from bench/results.json only.
import { DEFAULT_PROBE, DEFAULT_SAMPLES_PER_BOOT } from '../model/scenario.js';
import { markdownTable } from 'markdown-table';
import { median } from '../analysis/stats.js';
import { minimumDetectableEffectPct } from '../analysis/significance.js';
import { attrs, dotPath, escapeXml, linePath, linearScale, niceDomain, plainNumber } from './svg.js';
import {
  linearFit,
  noiseFloor,
  bootSummaries,
  reuseEffect,
  type ReuseEffect,
  pauseAccuracy,
  type BenchResults,
  type LinearFit,
  type MigrationSample,
  type NoiseFloor,
  type PauseAccuracy,
  type Spread,
} from '../analysis/benchmarks.js';

const MiB = 1024 * 1024;
/** Unpadded cells: the file diffs by figure, not by column width. */
const TABLE = { alignDelimiters: false } as const;
const f = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
// No "|" inside a cell: it would split the table.
const spreadText = (s: Spread, digits = 1) =>
  s.n ? `${f(s.median, digits)} (p10 ${f(s.p10, digits)}, p90 ${f(s.p90, digits)}, largest ${f(s.max, digits)} either way, n=${s.n})` : 'not measured';
const verdict = (ok: boolean | null) => (ok === null ? 'not measured' : ok ? 'holds' : '**does not hold**');

export interface Plot {
  readonly file: string;
  readonly svg: string;
}

/** A scatter of (x, y) per series with a least-squares line each; plain SVG, no script. */
export function scatterSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  series: ReadonlyArray<{ name: string; points: ReadonlyArray<readonly [number, number]>; color: string }>,
): string {
  const width = 640;
  const height = 360;
  const pad = { left: 70, right: 20, top: 36, bottom: 48 };
  const all = series.flatMap((s) => s.points);
  const xs = niceDomain(Math.min(0, ...all.map(([x]) => x)), Math.max(1, ...all.map(([x]) => x)), 5);
  const ys = niceDomain(0, Math.max(1, ...all.map(([, y]) => y)), 5);
  const sx = linearScale(xs.domain, [pad.left, width - pad.right]);
  const sy = linearScale(ys.domain, [height - pad.bottom, pad.top]);
  const parts: string[] = [];
  parts.push(`<text ${attrs({ x: width / 2, y: 20, 'text-anchor': 'middle', 'font-size': 14 })}>${escapeXml(title)}</text>`);
  for (const t of xs.ticks) parts.push(`<text ${attrs({ x: sx(t), y: height - pad.bottom + 16, 'text-anchor': 'middle', 'font-size': 11 })}>${plainNumber(t)}</text>`);
  for (const t of ys.ticks) {
    parts.push(`<line ${attrs({ x1: pad.left, x2: width - pad.right, y1: sy(t), y2: sy(t), stroke: '#ddd' })}/>`);
    parts.push(`<text ${attrs({ x: pad.left - 6, y: sy(t) + 4, 'text-anchor': 'end', 'font-size': 11 })}>${plainNumber(t)}</text>`);
  }
  parts.push(`<text ${attrs({ x: width / 2, y: height - 10, 'text-anchor': 'middle', 'font-size': 12 })}>${escapeXml(xLabel)}</text>`);
  parts.push(`<text ${attrs({ x: 16, y: height / 2, 'text-anchor': 'middle', 'font-size': 12, transform: `rotate(-90 16 ${height / 2})` })}>${escapeXml(yLabel)}</text>`);
  series.forEach((s, i) => {
    for (const [x, y] of s.points) parts.push(`<path ${attrs({ d: dotPath(sx(x), sy(y), 3.5), fill: s.color })}/>`);
    const fit = linearFit(s.points);
    if (fit) {
      const [x0, x1] = [Math.min(...s.points.map(([x]) => x)), Math.max(...s.points.map(([x]) => x))];
      parts.push(
        `<path ${attrs({
          d: linePath([
            [sx(x0), sy(fit.slope * x0 + fit.intercept)],
            [sx(x1), sy(fit.slope * x1 + fit.intercept)],
          ]),
          stroke: s.color,
          fill: 'none',
          'stroke-dasharray': '4 3',
        })}/>`,
      );
    }
    parts.push(
      `<text ${attrs({ x: pad.left + 8, y: pad.top + 14 + i * 16, fill: s.color, 'font-size': 12 })}>${escapeXml(s.name)}${fit ? ` (slope ${plainNumber(Number(fit.slope.toPrecision(3)))}, r² ${fit.r2.toFixed(3)})` : ''}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" ${attrs({ width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': 'sans-serif' })}>\n${parts.join('\n')}\n</svg>\n`;
}

const fitText = (fit: LinearFit | null, unit: string) =>
  fit ? `slope ${fit.slope.toPrecision(3)} ${unit}, intercept ${fit.intercept.toPrecision(3)}, r² ${fit.r2.toFixed(3)} (n=${fit.n})` : 'not enough points';

function points(samples: readonly MigrationSample[], x: (s: MigrationSample) => number, y: (s: MigrationSample) => number | null): Array<readonly [number, number]> {
  return samples
    .filter((s) => s.status === 'completed')
    .flatMap((s) => {
      const v = y(s);
      return v === null ? [] : [[x(s), v] as const];
    });
}

// What a point is plotted by, per migration sample.
const byMemoryMiB = (s: MigrationSample) => s.memoryMiB;
const byDirtyRateMBps = (s: MigrationSample) => s.dirtyRateMBps;
const totalTimeMs = (s: MigrationSample) => s.totalTimeMs;
const transferredMiB = (s: MigrationSample) => (s.transferredBytes === null ? null : s.transferredBytes / MiB);

/** The figures several sections of BENCHMARKS.md draw on, derived from the results once. */
interface Figures {
  readonly accuracy: readonly PauseAccuracy[];
  readonly noise: NoiseFloor;
  readonly memIdle: readonly MigrationSample[];
  readonly memDirty: readonly MigrationSample[];
  readonly fits: { readonly idleTime: LinearFit | null; readonly idleBytes: LinearFit | null; readonly dirtyTime: LinearFit | null; readonly dirtyBytes: LinearFit | null };
}

function figuresOf(r: BenchResults): Figures {
  const memIdle = r.memoryScaling.filter((s) => s.dirtyRateMBps === 0);
  const memDirty = r.memoryScaling.filter((s) => s.dirtyRateMBps > 0);
  const fits = {
    idleTime: linearFit(points(memIdle, byMemoryMiB, totalTimeMs)),
    idleBytes: linearFit(points(memIdle, byMemoryMiB, transferredMiB)),
    dirtyTime: linearFit(points(memDirty, byMemoryMiB, totalTimeMs)),
    dirtyBytes: linearFit(points(memDirty, byMemoryMiB, transferredMiB)),
  };
  return { accuracy: pauseAccuracy(r.pauses), noise: noiseFloor(r.noise), memIdle, memDirty, fits };
}

// ---------------------------------------------------------------------------------------
// The table of figures against targets, one function per row

/** A row, or null where this bench file has no such figure. */
type TargetRow = (r: BenchResults, figures: Figures) => string[] | null;

/** The largest |median| over pause lengths; an unmeasured median counts as the worst. */
function worstMedian(accuracy: readonly PauseAccuracy[], error: (a: PauseAccuracy) => Spread): number | null {
  return accuracy.length ? Math.max(...accuracy.map((a) => Math.abs(error(a).median ?? Infinity))) : null;
}

const observedDowntimeAccuracyRow: TargetRow = (r, { accuracy }) => {
  const probeBound = 2 + r.probeIntervalMs;
  const worstProbe = worstMedian(accuracy, (a) => a.probeError);
  const worstProbeAwake = worstMedian(accuracy, (a) => a.probeErrorAwake);
  return [
    'observed-downtime accuracy (probe gap − QEMU pause, worst median over pause lengths)',
    `≤ ${probeBound} ms (2 ms + interval)`,
    `${f(worstProbe)} ms raw; ${f(worstProbeAwake)} ms without the guest's wake-up`,
    verdict(worstProbe === null ? null : worstProbe <= probeBound),
  ];
};

const guestPauseAccuracyRow: TargetRow = (r, { accuracy }) => {
  const beatBound = 2 + r.heartbeatMs;
  const worstBeat = worstMedian(accuracy, (a) => a.heartbeatError);
  return [
    'guest-pause accuracy (heartbeat gap − pause − guest clock gap)',
    `≤ ${beatBound} ms (2 ms + period)`,
    `${f(worstBeat)} ms`,
    verdict(worstBeat === null ? null : worstBeat <= beatBound),
  ];
};

const probeCostRow: TargetRow = (r) => {
  const probeCpuPct = r.probeCost ? (r.probeCost.cpuSeconds / r.probeCost.seconds) * 100 : null;
  return [
    'probe cost at its interval',
    '< 5 % of one core',
    r.probeCost ? `${f(probeCpuPct, 2)} % at ${r.probeCost.intervalMs} ms (${r.probeCost.replies} replies in ${r.probeCost.seconds} s)` : '—',
    verdict(probeCpuPct === null ? null : probeCpuPct < 5),
  ];
};

function overheadRow(noise: NoiseFloor, mode: string): string[] {
  const overhead = noise.harnessOverheadMs.median;
  return noise.wallLessTotalMs.median === null
    ? [
        `harness overhead (migrate command → status seen, less QEMU total time), median${mode}`,
        '≤ 1.0 s',
        `${f(overhead)} ms`,
        verdict(overhead === null ? null : overhead <= 1000),
      ]
    : [
        `harness overhead (runner wall time less QEMU total time, per migration), median${mode}`,
        '≤ 1.0 s',
        `${f(noise.wallLessTotalMs.median / 1000, 2)} s: guest boot or resume ${f((noise.bootMs.median ?? NaN) / 1000, 2)} s, quiet windows ${f((noise.windowsMs.median ?? NaN) / 1000, 2)} s, migbench's own ${f((noise.ownMs.median ?? NaN) / 1000, 2)} s (of which migrate command → status seen less total: ${f(overhead)} ms)`,
        verdict(noise.wallLessTotalMs.median <= 1000),
      ];
}

const harnessOverheadRow: TargetRow = (r, { noise }) => overheadRow(noise, r.noiseKept ? ', a fresh boot per sample (the default)' : '');

const keptOverheadRow: TargetRow = (r) => (r.noiseKept ? overheadRow(noiseFloor(r.noiseKept), ', a kept guest (samplesPerBoot 5)') : null);

const abGateRow: TargetRow = (r) =>
  r.abGate
    ? [
        `default A/B gate wall time (${r.abGate.scenarios} scenarios × n = ${r.abGate.repeat} × 2 sides, lab up and down included)`,
        '≤ 3 min',
        `${f(r.abGate.ms / 60_000, 2)} min (${f(r.abGate.ms / 1000 / (r.abGate.scenarios * r.abGate.repeat * 2), 1)} s a sample), exit ${r.abGate.exitCode}`,
        verdict(r.abGate.exitCode === null ? null : r.abGate.ms <= 180_000),
      ]
    : null;

const concurrentRunsRow: TargetRow = (r) =>
  r.concurrentRuns
    ? [
        'two `migbench run` at once on one machine',
        'both complete',
        `exits ${r.concurrentRuns.exitCodes.join(' and ')}${r.concurrentRuns.waited ? ', the second waited for the lab and said so' : ''} (${f(r.concurrentRuns.ms / 1000, 1)} s)`,
        verdict(r.concurrentRuns.exitCodes.every((c) => c === 0)),
      ]
    : null;

const labUpRow: TargetRow = (r) => [
  'lab up, then a booted reachable guest',
  '≤ 15 s under TCG',
  r.labUpMs === null ? '—' : `${f(r.labUpMs / 1000, 2)} s + ${f((r.bootToReachableMs ?? NaN) / 1000, 2)} s = ${f((r.labUpMs + (r.bootToReachableMs ?? NaN)) / 1000, 2)} s`,
  verdict(r.labUpMs === null || r.bootToReachableMs === null ? null : r.labUpMs + r.bootToReachableMs <= 15_000),
];

const defaultSuiteRow: TargetRow = (r) => [
  'default suite (`npm start` wall time)',
  '≤ 5 min on 2 cores',
  r.defaultSuiteMs ? `${f(r.defaultSuiteMs / 60_000, 2)} min` : 'not measured by this bench yet',
  verdict(r.defaultSuiteMs ? r.defaultSuiteMs <= 300_000 : null),
];

const noiseFloorRow: TargetRow = (_r, { noise }) => [
  'noise floor, idle 256 MiB',
  '≤ 5 % CV total time; MDE at n=5',
  `CV total ${f(noise.totalTimeCvPct)} %, reported downtime ${f(noise.downtimeCvPct)} %, observed ${f(noise.observedDowntimeCvPct)} % (n=${noise.n}); MDE at n=5: total ${f(noise.totalTimeMdePctAt5)} %, observed downtime ${f(noise.observedDowntimeMdePctAt5)} %`,
  verdict(noise.totalTimeCvPct === null ? null : noise.totalTimeCvPct <= 5),
];

const memoryScalingRow: TargetRow = (_r, { memIdle, fits }) => [
  'scaling with guest memory',
  'report the fit',
  memIdle.length ? `idle: ${fitText(fits.idleTime, 'ms/MiB')}; dirty: ${fitText(fits.dirtyTime, 'ms/MiB')}` : 'not measured',
  memIdle.length ? 'reported' : 'not measured',
];

const dirtyScalingRow: TargetRow = (r) => {
  const firstStuck = [...r.dirtyScaling].sort((a, b) => a.dirtyRateMBps - b.dirtyRateMBps).find((s) => s.status !== 'completed');
  return [
    'scaling with dirty rate',
    'where it stops converging',
    r.dirtyScaling.length
      ? firstStuck
        ? `first not converging at ${firstStuck.dirtyRateMBps} MB/s (${r.dirtyScalingBandwidthMiBps} MiB/s link)`
        : `converged up to ${Math.max(...r.dirtyScaling.map((s) => s.dirtyRateMBps))} MB/s at ${r.dirtyScalingBandwidthMiBps} MiB/s`
      : 'not measured',
    r.dirtyScaling.length ? 'reported' : 'not measured',
  ];
};

const compareSpeedRow: TargetRow = (r) => [
  'compare speed',
  '< 1 s',
  r.compare
    ? `${f(r.compare.ms, 0)} ms for ${r.compare.scenarios} scenarios × ${r.compare.samples} samples a side (compareResults, median of 3 on a collected heap)`
    : r.compareNotFinishedS
      ? `not finished within ${r.compareNotFinishedS} s for 1000 scenarios × 30 samples a side (stopped)`
      : '—',
  verdict(r.compare ? r.compare.ms < 1000 : r.compareNotFinishedS ? false : null),
];

const TARGET_ROWS: readonly TargetRow[] = [
  observedDowntimeAccuracyRow,
  guestPauseAccuracyRow,
  probeCostRow,
  harnessOverheadRow,
  keptOverheadRow,
  labUpRow,
  defaultSuiteRow,
  abGateRow,
  concurrentRunsRow,
  noiseFloorRow,
  memoryScalingRow,
  dirtyScalingRow,
  compareSpeedRow,
];

function targetsTable(r: BenchResults, figures: Figures): string {
  return markdownTable(
    [
      ['figure', 'target', 'measured', 'verdict'],
      ...TARGET_ROWS.flatMap((row) => {
        const cells = row(r, figures);
        return cells ? [cells] : [];
      }),
    ],
    TABLE,
  );
}

// ---------------------------------------------------------------------------------------
// The other tables

function accuracyTable(accuracy: readonly PauseAccuracy[]): string {
  return markdownTable(
    [
      ['pause asked', 'probe gap − pause, ms', 'less the guest wake-up, ms', 'heartbeat residual, ms'],
      ...accuracy.map((a) => [`${a.requestedMs} ms`, spreadText(a.probeError, 2), spreadText(a.probeErrorAwake, 2), spreadText(a.heartbeatError, 2)]),
    ],
    TABLE,
  );
}

function migrationRows(samples: readonly MigrationSample[]): string {
  return (
    markdownTable(
      [
        ['guest MiB', 'dirty MB/s', 'status', 'total ms', 'reported downtime ms', 'observed downtime ms', 'transferred MiB', 'passes', 'runner wall s'],
        ...samples.map((s) => [
          String(s.memoryMiB),
          String(s.dirtyRateMBps),
          s.status,
          f(s.totalTimeMs, 0),
          f(s.downtimeMs, 0),
          f(s.observedDowntimeMs, 0),
          f(s.transferredBytes === null ? null : s.transferredBytes / MiB),
          f(s.iterations, 0),
          f(s.runnerWallMs / 1000),
        ]),
      ],
      TABLE,
    ) +
    // A failed run stays in the table, and says why beneath it.
    samples
      .filter((s) => s.error)
      .map((s, i) => `${i === 0 ? '\n' : ''}\n- ${s.memoryMiB} MiB, ${s.dirtyRateMBps} MB/s, ${s.status}: ${s.error!.replace(/\s+/g, ' ')}`)
      .join('')
  );
}

// ---------------------------------------------------------------------------------------
// The plots, each only when its figures were measured

const IDLE = '#1f77b4';
const DIRTYING = '#d62728';

function memoryPlots({ memIdle, memDirty }: Figures): Plot[] {
  const versusMemory = (y: (s: MigrationSample) => number | null) => [
    { name: 'idle', points: points(memIdle, byMemoryMiB, y), color: IDLE },
    { name: 'dirtying', points: points(memDirty, byMemoryMiB, y), color: DIRTYING },
  ];
  return [
    { file: 'bench/memory-total-time.svg', svg: scatterSvg('Total migration time vs guest memory', 'guest memory (MiB)', 'total time (ms)', versusMemory(totalTimeMs)) },
    { file: 'bench/memory-bytes.svg', svg: scatterSvg('Data sent vs guest memory', 'guest memory (MiB)', 'transferred (MiB)', versusMemory(transferredMiB)) },
  ];
}

function dirtyRatePlot(r: BenchResults): Plot {
  return {
    file: 'bench/dirty-rate.svg',
    svg: scatterSvg(`Total time vs dirty rate (${r.dirtyScalingBandwidthMiBps} MiB/s link)`, 'dirty rate (MB/s)', 'total time (ms)', [
      { name: 'total time', points: points(r.dirtyScaling, byDirtyRateMBps, totalTimeMs), color: '#2ca02c' },
    ]),
  };
}

function pauseAccuracyPlot(r: BenchResults): Plot {
  return {
    file: 'bench/pause-accuracy.svg',
    svg: scatterSvg('Probe and heartbeat gap vs QEMU pause', 'QEMU pause (ms)', 'gap (ms)', [
      { name: 'ICMP probe gap', points: r.pauses.flatMap((p) => (p.probeGapMs === null ? [] : [[p.pausedMs, p.probeGapMs] as const])), color: '#1f77b4' },
      { name: 'heartbeat gap', points: r.pauses.flatMap((p) => (p.heartbeatGapMs === null ? [] : [[p.pausedMs, p.heartbeatGapMs] as const])), color: '#ff7f0e' },
    ]),
  };
}

function benchmarkPlots(r: BenchResults, figures: Figures): Plot[] {
  return [...(r.memoryScaling.length ? memoryPlots(figures) : []), ...(r.dirtyScaling.length ? [dirtyRatePlot(r)] : []), ...(r.pauses.length ? [pauseAccuracyPlot(r)] : [])];
}

// ---------------------------------------------------------------------------------------
// The sections of BENCHMARKS.md, in order; they are joined by a blank line

function introSection(r: BenchResults): string {
  const e = r.environment;
  return `# migbench measured by itself

Written by \`npm run bench\` (scripts/bench.ts) from \`bench/results.json\`; do not edit by hand.
Everything below went through migbench's public code paths (the lab, the engine, the probes,
\`measurePauses\`, \`compareResults\`) on this machine:

- CPU: ${e.cpuModel} × ${e.cpuCount}; accelerator: **${e.accel}**; ${e.hypervisorVersion}; kernel ${e.kernel}; Node ${e.node}
- measured ${e.date}; the whole benchmark took ${f(r.benchWallMs / 60_000)} min

Reproduce: \`npm run bench\` (as root; it installs what is missing, brings the lab up and down).`;
}

function targetsSection(r: BenchResults, figures: Figures): string {
  return `## Figures against targets

${targetsTable(r, figures)}`;
}

function probeAccuracySection(r: BenchResults, { accuracy }: Figures): string {
  return `## Accuracy of the probes (injected pauses, QMP stop/cont)

The ICMP probe ran every ${r.probeIntervalMs} ms, the guest agent's heartbeat every ${r.heartbeatMs} ms.
A probe gap holds the pause, up to one interval before STOP, the guest's wake-up after RESUME
(under TCG the vCPU thread has to be scheduled again) and up to one interval to the next
probe: "raw" is all of it, the next column takes the wake-up out using the guest's own clock
(it stands still while QEMU is paused). The raw target of 2 ms + one interval leaves no room
for the second interval and the wake-up, which is why it does not hold on this machine; what
the probe itself adds is the second column.

${accuracyTable(accuracy)}

![probe and heartbeat gaps](bench/pause-accuracy.svg)`;
}

function noiseFloorSection(r: BenchResults, { noise }: Figures): string {
  return `## Noise floor: idle 256 MiB, n=${noise.n}

${r.noiseKept ? 'A fresh boot per sample (the default):\n\n' : ''}${migrationRows(r.noise)}
${r.noiseKept ? `\nA kept guest migrated back and forth, five samples a boot, interleaved with the above:\n\n${migrationRows(r.noiseKept)}\n` : ''}
Why the total time varies more than 5 %: under TCG the guest's vCPU is a host thread that
emulates every instruction, and on 2 cores it shares them with QEMU's migration thread, the
destination QEMU and the probes. Whichever of them the scheduler delays, the migration takes
longer; the spread is the host's, not the measurement's (QEMU's own total-time shows it, not
only migbench's probes), while the data sent barely moves (the table); a slow pass also gives
the idle guest's timer ticks time to dirty pages, so the number of passes moves with it.
A comparison on this kind of machine should take the MDE above, not the 5 % target, as the
smallest change it can see at n = 5, and migbench's comparison judges by its confidence
interval for this reason. On KVM hosts with idle cores the spread is a host property to measure
with this same bench.

Harness overhead (migrate command → final status seen, less QEMU's total time): ${spreadText(noise.harnessOverheadMs)} ms.
It is the 50 ms status polling and QEMU 7.2 reporting "completed" before its figures settle.
${wallTimeBreakdown(noise)}`;
}

/** Where the runner's wall time beyond QEMU's total goes; empty for bench files without harnessMs. */
function wallTimeBreakdown(noise: NoiseFloor): string {
  return noise.wallLessTotalMs.median === null
    ? ''
    : `
Per migration, the runner's wall time less QEMU's total time: ${spreadText(noise.wallLessTotalMs)} ms. It holds
three things, from the record's \`harnessMs\`: getting the guest (${spreadText(noise.bootMs)} ms: tapping the kept
guest's agent and probing it again, or, with a fresh boot per sample, a boot, which under TCG takes
seconds), the quiet windows before and after the migration (lead-in and watch-after, with the link
counter reads around them, ${spreadText(noise.windowsMs)} ms: the lead-in is the scenario's leadInMs, the watch-after
ends once ${DEFAULT_PROBE.steadyReplies} probe replies and as many heartbeats in a row came steady, at most observeAfterMs), and migbench's own work, ${spreadText(noise.ownMs)} ms:
about twenty commands over SSH to start, prepare, count and tear down both sides, status polling, the
agent's verification pass. The 1.0 s target cannot hold while each migration boots its own guest under
TCG; migbench's own part is what it can answer for, and the first run of this bench found it was
dominated by root's ~/.bashrc (a \`pyenv init\`) run by bash for every command sshd started,
half a second each: the lab's sshd now sets SHLVL=1, which keeps bash from reading it, the destination
is prepared while the source boots, and both sides are torn down at once.
`;
}

/**
 * The cost of a sample before issue 19 (BENCHMARKS.md of 2026-12-05, npm run bench on this
 * machine; the A/B gate was an estimate from the wall time per migration), for the table
 * that sets this run's figures beside them.
 */
const BEFORE_REUSE = {
  date: '2026-12-05',
  overheadS: 10.13,
  abGate: '≈ 15 min (estimate: 80 × 11 s)',
  totalCvPct: 8.8,
  probeErrorMs: 5.5,
  concurrent: 'kill each other',
} as const;

function costPerSampleSection(r: BenchResults, { noise: fresh, accuracy }: Figures): string {
  if (!r.noiseKept) return '';
  const kept = noiseFloor(r.noiseKept);
  const s = (ms: number | null) => (ms === null ? '—' : `${f(ms / 1000, 2)} s`);
  const rows = [
    ['figure', `before (${BEFORE_REUSE.date})`, 'this run', 'goal'],
    [
      'harness overhead per migration (runner wall − hypervisor total), idle-256, median',
      `${BEFORE_REUSE.overheadS} s (fresh boot every sample)`,
      `${s(fresh.wallLessTotalMs.median)} fresh boot (the default); ${s(kept.wallLessTotalMs.median)} kept guest`,
      '≤ 1.0 s',
    ],
    [
      'default A/B gate wall time',
      BEFORE_REUSE.abGate,
      r.abGate ? `${f(r.abGate.ms / 60_000, 2)} min (${r.abGate.scenarios} scenarios × n = ${r.abGate.repeat} × 2 sides, a fresh boot per sample, measured)` : 'not measured',
      '≤ 3 min',
    ],
    [
      `CV of total time, idle-256, n = ${fresh.n}`,
      `${BEFORE_REUSE.totalCvPct} %`,
      `${f(fresh.totalTimeCvPct)} % fresh boot; ${f(kept.totalTimeCvPct)} % kept guest (unpinned; pinned below)`,
      '≤ 5 %',
    ],
    [
      'SSH channels per migration (commands, taps, forwarded sockets; both hosts), median',
      '30 (54 on a target’s first)',
      `${f(fresh.sshChannels.median, 0)} fresh boot; ${f(kept.sshChannels.median, 0)} kept guest`,
      'fewer, measured',
    ],
    ['raw observed-downtime error vs injected pause (worst median)', `${BEFORE_REUSE.probeErrorMs} ms`, `${f(worstMedian(accuracy, (a) => a.probeError))} ms`, '≤ 4 ms'],
    [
      'two concurrent `migbench run` on one machine',
      BEFORE_REUSE.concurrent,
      r.concurrentRuns ? `exits ${r.concurrentRuns.exitCodes.join(' and ')}${r.concurrentRuns.waited ? ' (one waited)' : ''}` : 'not measured',
      'both complete',
    ],
  ];
  return `## Cost per sample: before and now

With \`samplesPerBoot\` above 1, repetitions of a scenario migrate one running guest back and
forth (ping-pong) instead of booting one each. The idle-256 scenario ran three ways in this
bench, interleaved ten times: a fresh boot per sample (the default), a kept guest (five samples
a boot), and a kept guest with its QEMUs and the probes pinned to CPUs.

${markdownTable(rows, TABLE)}

${reuseEffectSection(r)}

${pinningSection(r)}

${bootsSection(r)}`;
}

/** A boot's median, and its p10-p90 when it gave more than one sample. */
const bootCell = (s: Spread, digits: number) => (s.n > 1 ? `${f(s.median, digits)} (${f(s.p10, digits)}–${f(s.p90, digits)})` : f(s.median, digits));

/** Each boot's samples against the others': the offset a boot gives all of its samples. */
function bootsSection(r: BenchResults): string {
  const series: ReadonlyArray<readonly [string, readonly MigrationSample[]]> = [
    ['kept, unpinned', r.noiseKept ?? []],
    ['kept, pinned', r.noisePinned ?? []],
    ['fresh boot per sample', r.noise],
  ];
  const rows = series.flatMap(([mode, samples]) =>
    bootSummaries(samples).map((b) => [mode, b.guestId, String(b.n), bootCell(b.totalTimeMs, 0), bootCell(b.downtimeMs, 0), bootCell(b.transferredMiB, 2)]),
  );
  if (!rows.length) return '';
  return `Samples of one boot share that boot's offset. Each guest (boot) below, with the spread of its
samples (median, p10, p90): a boot that differs from the others differs in every sample it gives.
migbench's comparison counts samples, not boots, so such a boot looks like a change; this is why
reusing a guest is opt-in (\`samplesPerBoot\`, default ${DEFAULT_SAMPLES_PER_BOOT}).

${markdownTable([['mode', 'guest', 'samples', 'total ms', 'reported downtime ms', 'transferred MiB'], ...rows], TABLE)}`;
}

/** Spread of the noise floor with and without pinning, and without a kept guest. */
function pinningSection(r: BenchResults): string {
  if (!r.noisePinned || !r.pinnedCpus) return '';
  const modes: ReadonlyArray<readonly [string, readonly MigrationSample[]]> = [
    ['kept guest, unpinned', r.noiseKept ?? []],
    [`kept guest, pinned (source QEMU CPU ${r.pinnedCpus.source}, destination QEMU CPU ${r.pinnedCpus.destination}, probes CPU ${r.pinnedCpus.probes})`, r.noisePinned],
    ['fresh boot per sample, unpinned (the default)', r.noise],
  ];
  const rows = modes.map(([mode, samples]) => {
    const nf = noiseFloor(samples);
    const mde = (cvPct: number | null) => f(minimumDetectableEffectPct(cvPct === null ? null : cvPct / 100, nf.n));
    const medianOf = (value: (s: MigrationSample) => number | null) => f(median(samples.filter((s) => s.status === 'completed').flatMap((s) => finiteOrNone(value(s)))));
    return [
      mode,
      String(nf.n),
      `${f(nf.totalTimeCvPct)} % (MDE ±${mde(nf.totalTimeCvPct)} %)`,
      `${f(nf.downtimeCvPct)} % (MDE ±${mde(nf.downtimeCvPct)} %)`,
      `${f(nf.observedDowntimeCvPct)} % (MDE ±${mde(nf.observedDowntimeCvPct)} %)`,
      `${medianOf((s) => s.totalTimeMs)} / ${medianOf((s) => s.observedDowntimeMs)}`,
    ];
  });
  return `Pinned and unpinned, interleaved in this run (CV, and the MDE at this n a side):

${markdownTable([['mode', 'n', 'CV total time', 'CV reported downtime', 'CV observed downtime', 'median total / observed ms'], ...rows], TABLE)}`;
}

const finiteOrNone = (x: number | null): number[] => (x === null || !Number.isFinite(x) ? [] : [x]);

function reuseEffectSection(r: BenchResults): string {
  const effects = reuseEffect(r.noiseKept ?? [], r.noise);
  const verdictOf = (e: ReuseEffect) => (e.deltaPct === null || e.mdePct === null ? '—' : Math.abs(e.deltaPct) <= e.mdePct ? 'within the MDE' : '**moves beyond the MDE**');
  return `Does a kept guest measure the same as a fresh one? Medians of both modes, and the smallest
change ${Math.min(r.noise.length, r.noiseKept?.length ?? 0)} samples a side can tell from noise (MDE, from the larger CV of the two):

${markdownTable(
  [
    ['metric', 'kept guest', 'fresh boot', 'Δ', 'MDE', 'verdict'],
    ...effects.map((e) => [
      e.metric,
      f(e.reusedMedian),
      f(e.freshMedian),
      e.deltaPct === null ? '—' : `${e.deltaPct >= 0 ? '+' : ''}${f(e.deltaPct)} %`,
      e.mdePct === null ? '—' : `±${f(e.mdePct)} %`,
      verdictOf(e),
    ]),
  ],
  TABLE,
)}`;
}

function memoryScalingSection(r: BenchResults, { fits }: Figures): string {
  return `## Scaling with guest memory

${
  r.memoryScaling.length
    ? `${migrationRows(r.memoryScaling)}

- idle, total time: ${fitText(fits.idleTime, 'ms/MiB')}
- idle, data sent: ${fitText(fits.idleBytes, 'MiB/MiB')}
- dirtying, total time: ${fitText(fits.dirtyTime, 'ms/MiB')}
- dirtying, data sent: ${fitText(fits.dirtyBytes, 'MiB/MiB')}

![total time vs memory](bench/memory-total-time.svg) ![bytes vs memory](bench/memory-bytes.svg)`
    : 'Not measured in this run.'
}`;
}

function dirtyScalingSection(r: BenchResults): string {
  return `## Scaling with dirty rate

${
  r.dirtyScaling.length
    ? `${migrationRows(r.dirtyScaling)}

![total time vs dirty rate](bench/dirty-rate.svg)`
    : 'Not measured in this run.'
}`;
}

export function renderBenchmarks(r: BenchResults): { markdown: string; plots: Plot[] } {
  const figures = figuresOf(r);
  const sections = [
    introSection(r),
    targetsSection(r, figures),
    probeAccuracySection(r, figures),
    costPerSampleSection(r, figures),
    noiseFloorSection(r, figures),
    memoryScalingSection(r, figures),
    dirtyScalingSection(r),
  ];
  return { markdown: `${sections.filter(Boolean).join('\n\n')}\n`, plots: benchmarkPlots(r, figures) };
}
