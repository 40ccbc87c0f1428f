// Issue 18's case, on real lab runs (fixtures/results/lab-pool.json: the default suites'
// 4 scenarios, 20 runs each): 6 runs a side, every head sample 50% slower, no overlap.
// With Holm over 4 × 7 comparisons this was "0 regressions", every row not comparable.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { compareResults, comparisonExitCode } from '../../src/analysis/comparison.js';
import { main } from '../../src/cli/main.js';
import type { MigrationRecord, ResultsFile } from '../../src/generated/results.js';
import { METRICS } from '../../src/model/metrics.js';
import { projectPath } from '../../src/model/paths.js';
import { readResults } from '../../src/model/results.js';

let base: ResultsFile;
let head: ResultsFile;

/** The record with every time metric 50% larger (bytes stay: a slower migration, not a bigger one). */
function slower(r: MigrationRecord): MigrationRecord {
  const metrics = Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, v !== null && METRICS[k as keyof typeof METRICS]?.unit === 'ms' ? v * 1.5 : v]));
  return { ...r, metrics: metrics as MigrationRecord['metrics'] };
}

beforeAll(async () => {
  const pool = await readResults(projectPath('fixtures/results/lab-pool.json'));
  const byScenario = new Map<string, MigrationRecord[]>();
  for (const r of pool.records) byScenario.set(r.scenario, [...(byScenario.get(r.scenario) ?? []), r]);
  base = { ...pool, records: [...byScenario.values()].flatMap((rs) => rs.slice(0, 6)) };
  // Each head run is a base run 50% slower: no overlap where the metric varies less than that.
  head = { ...pool, records: base.records.map(slower) };
});

describe('6 vs 6, every head run 50% slower, 4 scenarios', () => {
  test('every scenario is a regression, and compare exits 1', () => {
    const c = compareResults(base, head);
    const regressed = new Set(c.rows.filter((r) => r.verdict === 'regression').map((r) => r.scenario));
    expect([...regressed].sort()).toEqual(['dirty-64m-32mbps', 'idle-256', 'storage-disk-writes', 'storage-idle-256']);
    // Total time's raw p is at or near the floor (1/924, a few ties of real runs aside);
    // adjusted over the 28 correlated comparisons it stays below 0.05, where Holm charged 28 × that.
    for (const scenario of regressed) {
      const total = c.rows.find((r) => r.scenario === scenario && r.metric === 'totalTimeMs')!;
      expect(total.p!).toBeLessThan(0.01);
      expect(total.p! * 28).toBeGreaterThan(0.03);
      expect(total.pAdjusted!).toBeLessThan(0.05);
    }
    expect(comparisonExitCode(c)).toBe(1);
  });

  test('migbench compare on the two files exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-gate-rule-'));
    await writeFile(join(dir, 'base.json'), JSON.stringify(base));
    await writeFile(join(dir, 'head.json'), JSON.stringify(head));
    let out = '';
    const code = await main(['compare', join(dir, 'base.json'), join(dir, 'head.json')], { log: () => undefined, out: (t) => (out += t) });
    expect(code).toBe(1);
    expect(out).toMatch(/🚨 \*\*\d+ regressions\*\*/);
  });
});
