// How long `migbench compare` takes on a large input: 1,000 scenarios × 30 samples a side,
// every judged metric varying. Prints wall time and peak heap; run it with
//   node --import tsx scripts/bench-compare.ts
// (a benchmark with figures, not a timed unit test: machines differ).
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compareResults } from '../src/analysis/comparison.js';
import type { MigrationRecord, ResultsFile } from '../src/generated/results.js';
import { projectPath } from '../src/model/paths.js';
import { compareMarkdown } from '../src/render/comparison.js';
import { readResults } from '../src/model/results.js';

const SCENARIOS = Number(process.env.SCENARIOS ?? 1000);
const SAMPLES = Number(process.env.SAMPLES ?? 30);

let seed = 42;
const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;

async function synthetic(shift: number): Promise<ResultsFile> {
  const fixture = await readResults(projectPath('fixtures/results/lab-tcg.json'));
  const template = fixture.records[0]!;
  const records: MigrationRecord[] = [];
  for (let s = 0; s < SCENARIOS; s++) {
    for (let i = 0; i < SAMPLES; i++) {
      const r = structuredClone(template);
      r.scenario = `scenario-${s}`;
      r.repetition = i + 1;
      const noisy = (v: number | null) => (v === null ? null : v * (1 + shift * (s % 3 === 0 ? 1 : 0) + (random() - 0.5) * 0.1));
      r.metrics = {
        ...r.metrics,
        totalTimeMs: noisy(r.metrics.totalTimeMs),
        downtimeMs: noisy(r.metrics.downtimeMs),
        stopToResumeMs: noisy(r.metrics.stopToResumeMs),
        observedDowntimeMs: noisy(r.metrics.observedDowntimeMs),
        guestPauseMs: noisy(r.metrics.guestPauseMs),
        transferredBytes: noisy(r.metrics.transferredBytes),
        wireBytes: noisy(r.metrics.wireBytes),
      };
      records.push(r);
    }
  }
  return { ...fixture, records };
}

const [base, head] = [await synthetic(0), await synthetic(0.2)];
// Building 60,000 records leaves a 500 MiB heap of young garbage; without a collection first,
// the comparison pays for the generator's garbage (a third of its time here). The median of
// three runs, each on a collected heap, is the comparison's own cost.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const times: number[] = [];
let comparison = compareResults(base, head);
for (let run = 0; run < 3; run++) {
  collect();
  const started = performance.now();
  comparison = compareResults(base, head);
  times.push(performance.now() - started);
}
const compareMs = times.sort((a, b) => a - b)[1]!;
const markdownStarted = performance.now();
const markdown = compareMarkdown(comparison);
const markdownMs = performance.now() - markdownStarted;
const heapMiB = process.memoryUsage().heapUsed / 1024 / 1024;
console.log(
  `${SCENARIOS} scenarios × ${SAMPLES} samples a side, ${comparison.rows.length} comparisons: compare ${compareMs.toFixed(0)} ms, markdown ${markdownMs.toFixed(0)} ms (${markdown.length} characters), heap ${heapMiB.toFixed(0)} MiB`,
);
console.log(`verdicts: ${JSON.stringify(comparison.counts)}`);
