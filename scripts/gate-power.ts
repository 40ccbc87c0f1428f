// How often the gate fails an unchanged head (false alarms) and how often it catches a
// +10 % and a +50 % change (power), at 5, 6 and 10 runs a side, simulated from real lab
// runs: each simulated gate draws 2n distinct runs per scenario from the pool without
// replacement (no ties made up; gate-statistics.md §5), splits them into base and head,
// scales the head's judged metrics by the change, and runs the whole gate: the comparison
// and the rule that fails it (a regression, an inconclusive row past the fail threshold,
// a failed head run). Every figure comes from this script; docs/gate.md carries its table.
//
//   node --import tsx scripts/gate-power.ts POOL_RESULTS_JSON [--gates N] [--write docs/gate.md]
import { readFile, writeFile } from 'node:fs/promises';
import { compareResults, headFindings, JUDGED_METRICS } from '../src/analysis/comparison.js';
import type { MigrationRecord, ResultsFile } from '../src/generated/results.js';
import { readResults } from '../src/model/results.js';
import { mulberry32 } from '../src/analysis/significance.js';

function sample<T>(items: readonly T[], k: number, random: () => number): T[] {
  const pool = [...items];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, k);
}

interface Change {
  readonly label: string;
  /** Scale a head record's metrics. */
  apply(record: MigrationRecord, scenarioIndex: number): MigrationRecord;
}

const scaled = (record: MigrationRecord, factor: number, metrics: readonly string[]): MigrationRecord => ({
  ...record,
  metrics: Object.fromEntries(Object.entries(record.metrics).map(([k, v]) => [k, v !== null && metrics.includes(k) ? v * factor : v])) as MigrationRecord['metrics'],
});

const CHANGES: readonly Change[] = [
  { label: 'unchanged (A/A)', apply: (r) => r },
  { label: '+10 %, every judged metric of every scenario', apply: (r) => scaled(r, 1.1, JUDGED_METRICS) },
  { label: '+50 %, every judged metric of every scenario', apply: (r) => scaled(r, 1.5, JUDGED_METRICS) },
  { label: '+10 %, total time of one scenario', apply: (r, s) => (s === 0 ? scaled(r, 1.1, ['totalTimeMs']) : r) },
  { label: '+50 %, observed downtime of one scenario', apply: (r, s) => (s === 0 ? scaled(r, 1.5, ['observedDowntimeMs']) : r) },
];

/** log C(n, i) for i = 0 … n. */
function logChoose(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) out[i] = out[i - 1]! + Math.log((n - i + 1) / i);
  return out;
}

/** P(X ≤ k) for X ~ Binomial(n, p), summed in log space (p^n underflows long before n = 200). */
function binomialCdf(k: number, n: number, p: number, logC: Float64Array): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  const logs = Array.from({ length: k + 1 }, (_, i) => logC[i]! + i * Math.log(p) + (n - i) * Math.log1p(-p));
  const top = Math.max(...logs);
  return Math.min(1, Math.exp(top) * logs.reduce((sum, l) => sum + Math.exp(l - top), 0));
}

/** Clopper-Pearson 95 % interval of k/n, by bisection on the binomial tails. */
function clopperPearson(k: number, n: number): [number, number] {
  const logC = logChoose(n);
  const solve = (tooLow: (p: number) => boolean) => {
    let [lo, hi] = [0, 1];
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (tooLow(mid)) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  // Lower: P(X ≥ k) = 0.025; upper: P(X ≤ k) = 0.025.
  const low = k === 0 ? 0 : solve((p) => 1 - binomialCdf(k - 1, n, p, logC) < 0.025);
  const high = k === n ? 1 : solve((p) => binomialCdf(k, n, p, logC) > 0.025);
  return [low, high];
}

function gateFails(pool: Map<string, MigrationRecord[]>, template: ResultsFile, n: number, change: Change, random: () => number): boolean {
  const base: MigrationRecord[] = [];
  const head: MigrationRecord[] = [];
  [...pool.values()].forEach((runs, s) => {
    const drawn = sample(runs, 2 * n, random);
    base.push(...drawn.slice(0, n));
    head.push(...drawn.slice(n).map((r) => change.apply(r, s)));
  });
  const comparison = compareResults({ ...template, records: base }, { ...template, records: head });
  return headFindings(comparison).length > 0;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const poolPath = args.find((a) => !a.startsWith('--'));
  if (!poolPath) throw new Error('usage: gate-power.ts POOL_RESULTS_JSON [--gates N] [--write FILE]');
  const gates = Number(args[args.indexOf('--gates') + 1] ?? 200) || 200;
  const write = args.includes('--write') ? args[args.indexOf('--write') + 1] : undefined;
  const results = await readResults(poolPath);
  const pool = new Map<string, MigrationRecord[]>();
  for (const r of results.records.filter((x) => x.status === 'completed')) pool.set(r.scenario, [...(pool.get(r.scenario) ?? []), r]);
  const smallest = Math.min(...[...pool.values()].map((r) => r.length));
  const wanted = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1]!.split(',').map(Number) : [5, 6, 10];
  const only = args.includes('--only') ? Number(args[args.indexOf('--only') + 1]) : undefined;
  const sizes = wanted.filter((n) => 2 * n <= smallest);
  const rows: string[][] = [];
  const started = performance.now();
  for (const change of CHANGES.filter((_, i) => only === undefined || i === only)) {
    const row = [change.label];
    for (const n of sizes) {
      const random = mulberry32(1000 * n + CHANGES.indexOf(change));
      let fails = 0;
      for (let g = 0; g < gates; g++) if (gateFails(pool, results, n, change, random)) fails++;
      const [lo, hi] = clopperPearson(fails, gates);
      row.push(`${((100 * fails) / gates).toFixed(1)} % [${(100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}]`);
      process.stderr.write(`${change.label}, n=${n}: ${fails}/${gates} gates failed (${Math.round((performance.now() - started) / 1000)} s)\n`);
    }
    rows.push(row);
  }
  const counts = [...pool.entries()].map(([s, r]) => `${s} ${r.length}`).join(', ');
  const table = [
    `Gates failed, of ${gates} simulated per cell (95 % Clopper-Pearson interval), drawn from ${results.records.length} real lab runs (${counts}; ${results.records[0]?.environment.source.hypervisorVersion}, accel ${results.records[0]?.environment.source.accel}):`,
    '',
    `| head | ${sizes.map((n) => `n = ${n} a side`).join(' | ')} |`,
    `| --- | ${sizes.map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `Generated by \`node --import tsx scripts/gate-power.ts ${poolPath} --gates ${gates}\` on ${new Date().toISOString().slice(0, 10)}.`,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  if (write) {
    const doc = await readFile(write, 'utf8');
    const [open, close] = ['<!-- gate-power:start -->', '<!-- gate-power:end -->'];
    if (!doc.includes(open) || !doc.includes(close)) throw new Error(`${write} lacks the ${open} … ${close} markers`);
    await writeFile(write, `${doc.slice(0, doc.indexOf(open) + open.length)}\n${table}\n${doc.slice(doc.indexOf(close))}`);
  }
}

await main();
