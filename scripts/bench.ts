// `npm run bench`: measures migbench itself on the embedded lab through its public code
// paths and writes bench/results.json, BENCHMARKS.md and the plots (src/bench/ renders).
// BENCH_QUICK=1 runs fewer repetitions (for trying it out; the committed file is a full run).
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResults, MigrationSample, PauseSample } from '../src/analysis/benchmarks.js';
import { renderBenchmarks } from '../src/render/benchmarks.js';
import { measurePauses } from '../src/engine/calibration.js';
import { parseConfig } from '../src/config/load.js';
import { resolveScenarios } from '../src/config/scenarios.js';
import { runMigration } from '../src/engine/migration.js';
import { GuestChain } from '../src/engine/chain.js';
import { labDown, labStatus, labUp, readLabState } from '../src/lab/lab.js';
import { holdLabForChildren } from '../src/lab/lock.js';
import { projectPath } from '../src/model/paths.js';
import { connectTarget, type ConnectedTarget } from '../src/engine/target.js';

const quick = process.env.BENCH_QUICK === '1';
/** The kept-guest series: five samples a boot, so ten samples are two boots. */
const REUSE_SAMPLES_PER_BOOT = 5;
const PROBE_INTERVAL_MS = 2;
const HEARTBEAT_MS = 1;
const DIRTY_BANDWIDTH_MIBPS = 32;
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const benchStarted = performance.now();

/**
 * The pinned noise floor's CPUs: each lab host's QEMUs on a CPU of their own, the probes on a
 * third where there is one (on 2 CPUs they share the destination host's).
 */
const PINNED_CPUS = { source: '0', destination: '1', probes: cpus().length > 2 ? '2' : '1' };

function scenarios(lines: string[]) {
  const pinned = `targets:\n  pinned: { hypervisor: qemu, lab: true, qemu: { cpus: ${JSON.stringify(PINNED_CPUS)} } }\n`;
  const config = parseConfig(`${pinned}suites:\n  bench:\n    scenarios:\n${lines.map((l) => `      - ${l}\n`).join('')}`, 'scripts/bench.ts');
  return { config, scenarios: resolveScenarios(config, 'bench') };
}

/** One migration; with `chain`, of the guest the chain's last sample left (a fresh one for its first). */
async function migrate(target: ConnectedTarget, line: string, memoryMiB: number, dirtyRateMBps: number, chain?: GuestChain): Promise<MigrationSample> {
  const {
    scenarios: [scenario],
  } = scenarios([line]);
  const started = performance.now();
  const record = await runMigration(target, { scenario: scenario!, suite: 'bench', test: scenario!.name, repetition: 1, ...(chain && { chain }) });
  const sample: MigrationSample = {
    memoryMiB,
    dirtyRateMBps,
    status: record.status,
    totalTimeMs: record.metrics.totalTimeMs,
    downtimeMs: record.metrics.downtimeMs,
    observedDowntimeMs: record.metrics.observedDowntimeMs,
    transferredBytes: record.metrics.transferredBytes,
    iterations: record.metrics.iterations,
    runnerWallMs: performance.now() - started,
    migrateWallMs: record.metrics.wallTimeMs,
    ...(record.harnessMs && { harnessMs: record.harnessMs }),
    // The quiet windows as they ran (adaptive: over once the probes are steady), with the counter reads around them.
    ...(record.harnessMs && { windowsMs: (record.harnessMs.leadInMs ?? 0) + (record.harnessMs.observeMs ?? 0) }),
    ...(record.error && { error: `${record.error.code} in ${record.error.phase}: ${record.error.message}` }),
    boot: record.chain?.boot ?? 'fresh',
    ...(record.chain && { guestId: record.chain.id }),
    ...(record.sshChannels && { sshChannels: (record.sshChannels.source ?? 0) + (record.sshChannels.destination ?? 0) }),
  };
  log(
    `${scenario!.name} (${sample.boot}): ${sample.status}, total ${sample.totalTimeMs} ms, observed downtime ${sample.observedDowntimeMs} ms, runner ${(sample.runnerWallMs / 1000).toFixed(1)} s${sample.error ? ` (${sample.error})` : ''}`,
  );
  return sample;
}

/** CPU seconds the ICMP probe used while probing a lab host for `seconds` at its interval. */
async function probeCost(target: ConnectedTarget, seconds: number): Promise<BenchResults['probeCost']> {
  const state = (await readLabState())!;
  const tool = target.observerProbePath;
  // `ip netns exec` execs the probe, so the child's pid is the probe's.
  const child = spawn('ip', ['netns', 'exec', state.observer.netns, tool, 'icmp', '-r', '-e', '-i', String(PROBE_INTERVAL_MS * 1000), state.hosts.source.address], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let replies = 0;
  let partial = '';
  child.stdout.on('data', (c: Buffer) => {
    const text = partial + c.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    replies += lines.length;
  });
  const cpu = async () => {
    const stat = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    return (Number(stat[11]) + Number(stat[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  };
  await new Promise((r) => setTimeout(r, 500));
  const before = await cpu();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = await cpu();
  const elapsed = (performance.now() - t0) / 1000;
  child.stdin.end();
  await new Promise((r) => child.on('close', r));
  return { intervalMs: PROBE_INTERVAL_MS, seconds: Math.round(elapsed * 100) / 100, cpuSeconds: after - before, replies };
}

/** How long the compare-speed step may take before it is reported as not finished. */
const COMPARE_LIMIT_S = 180;

async function compareSpeed(): Promise<Pick<BenchResults, 'compare' | 'compareNotFinishedS'>> {
  let stopped = false as boolean;
  const out = await new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', projectPath('scripts/bench-compare.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (c: Buffer) => (text += c.toString()));
    // A comparison that has not finished by then is reported as not finished, not waited for.
    const timer = setTimeout(() => {
      log(`compare speed: not finished within ${COMPARE_LIMIT_S} s; stopped`);
      stopped = true;
      child.kill('SIGKILL');
    }, COMPARE_LIMIT_S * 1000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  const m = /^(\d+) scenarios × (\d+) samples a side, \d+ comparisons: compare (\d+) ms/m.exec(out);
  if (m) return { compare: { scenarios: Number(m[1]), samples: Number(m[2]), ms: Number(m[3]) } };
  return { compare: null, ...(stopped && { compareNotFinishedS: COMPARE_LIMIT_S }) };
}

/** Writes BENCHMARKS.md and the plots from a results object. */
async function render(results: BenchResults): Promise<void> {
  const { markdown, plots } = renderBenchmarks(results);
  await writeFile(projectPath('BENCHMARKS.md'), markdown);
  for (const plot of plots) await writeFile(join(projectPath('.'), plot.file), plot.svg);
  log(`wrote BENCHMARKS.md and ${plots.length} plots`);
}

// BENCH_RENDER_ONLY=1: render the last results again (after a change to the report).
if (process.env.BENCH_RENDER_ONLY === '1') {
  await render(JSON.parse(await readFile(projectPath('bench/results.json'), 'utf8')) as BenchResults);
  process.exit(0);
}

// ── lab up from nothing, then a booted reachable guest ──
// The bench holds the lab: a `migbench run` started meanwhile waits rather than clean its guests away.
const labLock = await holdLabForChildren('npm run bench', log);
if ((await labStatus()).up) await labDown({ log });
const labT0 = performance.now();
await labUp({ log });
const labUpMs = performance.now() - labT0;
const { config } = scenarios(['{ name: x, guest: { memoryMiB: 256 }, migration: { kind: memory } }']);
const target = await connectTarget(config, 'lab');
const pinnedTarget = await connectTarget(config, 'pinned');
let results: BenchResults | undefined;
try {
  const env = (await target.hypervisor.describe()).source;
  let reachableAt = 0;
  const bootT0 = Date.now();
  // ── accuracy: pauses of 50, 100, 300, 1000 ms, interleaved ──
  const lengths = [50, 100, 300, 1000];
  const rounds = quick ? 3 : 10;
  const measured = await measurePauses(target, {
    pausesMs: Array.from({ length: rounds }, () => lengths).flat(),
    probeIntervalMs: PROBE_INTERVAL_MS,
    heartbeatMs: HEARTBEAT_MS,
    tool: 'migbench-probe',
    onReachable: (at) => (reachableAt = at),
  });
  const pauses: PauseSample[] = measured.map((p) => ({
    requestedMs: p.requestedMs,
    pausedMs: p.pausedMs,
    probeGapMs: p.probe.gapMs,
    heartbeatGapMs: p.heartbeat.gapMs,
    guestClockGapMs: p.guestClockGapMs,
  }));
  log(`${pauses.length} pauses measured`);
  const probe = await probeCost(target, 10);
  log(`probe cost: ${probe ? ((probe.cpuSeconds / probe.seconds) * 100).toFixed(2) : '?'} % of a core`);

  // ── noise floor: idle 256 MiB, interleaved: a fresh boot per sample (the default), a kept
  // guest, and a kept guest with source QEMU, destination QEMU and probes pinned to CPUs ──
  const noise: MigrationSample[] = [];
  const noiseKept: MigrationSample[] = [];
  const noisePinned: MigrationSample[] = [];
  const keep = { fresh: false, samplesPerBoot: REUSE_SAMPLES_PER_BOOT };
  const chains = { kept: new GuestChain('noise', keep), pinned: new GuestChain('noise pinned', keep) };
  try {
    for (let i = 0; i < (quick ? 3 : 10); i++) {
      noiseKept.push(await migrate(target, `{ name: noise-kept-${i + 1}, guest: { memoryMiB: 256 }, migration: { kind: memory } }`, 256, 0, chains.kept));
      noise.push(await migrate(target, `{ name: noise-${i + 1}, guest: { memoryMiB: 256 }, migration: { kind: memory } }`, 256, 0));
      noisePinned.push(
        await migrate(pinnedTarget, `{ name: noise-pinned-${i + 1}, target: pinned, guest: { memoryMiB: 256 }, migration: { kind: memory } }`, 256, 0, chains.pinned),
      );
    }
  } finally {
    await chains.kept.end();
    await chains.pinned.end();
  }

  // ── scaling with guest memory: idle and dirtying (32 MiB working set at 32 MB/s) ──
  const memoryScaling: MigrationSample[] = [noise[0]!];
  for (const mib of quick ? [128, 512] : [128, 512, 1024])
    memoryScaling.push(await migrate(target, `{ name: idle-${mib}, guest: { memoryMiB: ${mib} }, migration: { kind: memory } }`, mib, 0));
  for (const mib of quick ? [256, 512] : [256, 512, 1024]) {
    memoryScaling.push(
      await migrate(
        target,
        `{ name: dirty-${mib}, guest: { memoryMiB: ${mib} }, workload: { memory: { workingSetMiB: 32, dirtyRateMBps: 32 } }, migration: { kind: memory, timeoutMs: 60000 } }`,
        mib,
        32,
      ),
    );
  }

  // ── scaling with dirty rate at a fixed link speed ──
  const dirtyScaling: MigrationSample[] = [];
  for (const rate of quick ? [16, 64] : [8, 32, 64, 128]) {
    dirtyScaling.push(
      await migrate(
        target,
        `{ name: rate-${rate}, guest: { memoryMiB: 256 }, workload: { memory: { workingSetMiB: 64, dirtyRateMBps: ${rate} } }, migration: { kind: memory, maxBandwidthMiBps: ${DIRTY_BANDWIDTH_MIBPS}, timeoutMs: 30000 } }`,
        256,
        rate,
      ),
    );
  }

  results = {
    schema: 'migbench-bench/1',
    environment: {
      cpuModel: env.cpuModel,
      cpuCount: cpus().length,
      accel: env.accel,
      hypervisorVersion: env.hypervisorVersion,
      kernel: release(),
      node: process.version,
      date: new Date().toISOString(),
    },
    probeIntervalMs: PROBE_INTERVAL_MS,
    heartbeatMs: HEARTBEAT_MS,
    labUpMs,
    bootToReachableMs: reachableAt ? reachableAt - bootT0 : null,
    pauses,
    probeCost: probe,
    noise,
    noiseKept,
    noisePinned,
    pinnedCpus: PINNED_CPUS,
    memoryScaling,
    dirtyScaling,
    dirtyScalingBandwidthMiBps: DIRTY_BANDWIDTH_MIBPS,
    ...(await compareSpeed()),
    benchWallMs: performance.now() - benchStarted,
  };
} finally {
  await pinnedTarget.close();
  await target.close();
  await labDown({ log });
  await labLock.release();
}

/** Runs the migbench CLI; its stderr is passed through and kept. */
async function cli(args: readonly string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', projectPath('src/cli/index.ts'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      process.stderr.write(c);
    });
    child.on('close', (code) => resolve({ code, stderr, ms: performance.now() - t0 }));
  });
}

const out = (name: string) => join(tmpdir(), `migbench-bench-${name}-${process.pid}`);
const DEFAULT_CONFIG = projectPath('suites/migbench.config.yaml');
const AB_REPEAT = 10;

if (results && !quick) {
  // ── the default suite, as `npm start` runs it: lab up, the default config, lab down ──
  const suite = await cli(['start', '--out', out('default'), '--quiet']);
  log(`default suite: ${(suite.ms / 60_000).toFixed(2)} min, exit ${suite.code}`);
  // ── the default A/B gate: every default scenario, n = 10 a side, base and head alike ──
  const ab = await cli(['run', '--ab', DEFAULT_CONFIG, DEFAULT_CONFIG, '--repeat', String(AB_REPEAT), '--out', out('ab'), '--quiet']);
  const scenarioCount = new Set(JSON.parse(await readFile(join(out('ab'), 'base', 'results.json'), 'utf8')).records.map((r: { scenario: string }) => r.scenario)).size;
  log(`default A/B gate: ${(ab.ms / 60_000).toFixed(2)} min, exit ${ab.code}`);
  // ── two runs at once: one waits for the lab, both complete ──
  const t0 = performance.now();
  const both = await Promise.all(['one', 'two'].map((name) => cli(['run', '--config', DEFAULT_CONFIG, '--scenario', 'idle-256', '--repeat', '1', '--out', out(name), '--quiet'])));
  const concurrentRuns = { exitCodes: both.map((b) => b.code), waited: both.some((b) => /lab: in use by pid \d+/.test(b.stderr)), ms: performance.now() - t0 };
  log(`two runs at once: exits ${concurrentRuns.exitCodes.join(', ')}${concurrentRuns.waited ? ', one waited' : ''}`);
  results = {
    ...results,
    defaultSuiteMs: suite.code === 0 ? suite.ms : null,
    abGate: { ms: ab.ms, exitCode: ab.code, scenarios: scenarioCount, repeat: AB_REPEAT },
    concurrentRuns,
    benchWallMs: performance.now() - benchStarted,
  };
}
if (results) {
  await mkdir(projectPath('bench'), { recursive: true });
  await writeFile(projectPath('bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
  await render(results);
  log(`bench took ${(results.benchWallMs / 60_000).toFixed(1)} min`);
}
