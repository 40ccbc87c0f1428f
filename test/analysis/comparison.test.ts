import { beforeAll, describe, expect, test } from 'vitest';
import { compareResults, comparisonExitCode, defaultThresholds, environmentDifferences, headFindings } from '../../src/analysis/comparison.js';
import type { MigrationRecord, ResultsFile } from '../../src/generated/results.js';
import { projectPath } from '../../src/model/paths.js';
import { compareMarkdown, COMMENT_LIMIT, headline } from '../../src/render/comparison.js';
import { readResults } from '../../src/model/results.js';

let fixture: ResultsFile;
beforeAll(async () => {
  fixture = await readResults(projectPath('fixtures/results/lab-tcg.json'));
});

/** A results file of one scenario whose totalTimeMs and downtimeMs take these values, run by run. */
function side(totals: number[], downtimes: number[] = totals.map(() => 10), scenario = 'idle-256'): ResultsFile {
  const template = fixture.records.find((r) => r.scenario === 'idle-256')!;
  const records: MigrationRecord[] = totals.map((totalTimeMs, i) => {
    const r = structuredClone(template);
    r.scenario = scenario;
    r.repetition = i + 1;
    r.metrics = { ...r.metrics, totalTimeMs, downtimeMs: downtimes[i]! };
    return r;
  });
  return { ...fixture, records };
}

const row = (c: ReturnType<typeof compareResults>, metric: string) => c.rows.find((r) => r.metric === metric)!;

describe(compareResults, () => {
  test('a clear, large slowdown with n=5 a side is a regression; unchanged metrics stay unchanged', () => {
    const c = compareResults(side([700, 710, 705, 720, 715]), side([900, 910, 905, 920, 915]));
    const total = row(c, 'totalTimeMs');
    expect(total.base).toMatchObject({ n: 5, median: 710 });
    expect(total.head).toMatchObject({ n: 5, median: 910 });
    // One-sided, whole runs permuted: the one most extreme of C(10, 5) = 252 labelings.
    expect(total.p).toBeCloseTo(1 / 252, 10);
    expect(total.pAdjusted).toBeCloseTo(1 / 252, 10);
    expect(total.deltaPct).toBeCloseTo(28.2, 0);
    expect(total.deltaLowPct!).toBeGreaterThan(10);
    expect(total.verdict).toBe('regression');
    // Identical samples on both sides.
    expect(row(c, 'transferredBytes')).toMatchObject({ verdict: 'unchanged', reason: 'identical values' });
    expect(comparisonExitCode(c)).toBe(1);
  });

  test('a faster head is an improvement, and exits 0', () => {
    const c = compareResults(side([900, 910, 905, 920, 915]), side([700, 710, 705, 720, 715]));
    expect(row(c, 'totalTimeMs').verdict).toBe('improved');
    expect(comparisonExitCode(c)).toBe(0);
  });

  test('n=3 a side cannot say anything: inconclusive, with the runs that could, and no interval to fail the gate on', () => {
    const c = compareResults(side([700, 710, 705]), side([900, 910, 905]));
    // The smallest one-sided p of 3 vs 3 is 1/20 = 0.05, not below α; a 95% interval needs more runs.
    expect(row(c, 'totalTimeMs')).toMatchObject({ verdict: 'inconclusive', reason: 'the interval is unbounded at this size: needs n ≥ 4 a side', deltaLowPct: null });
    expect(comparisonExitCode(c)).toBe(0);
  });

  test('an inconclusive row that looks like a regression (interval wholly past fail, adjusted p < 2α) fails the gate by default; pass lets it through', () => {
    // 4 vs 4 separated: p = 1/70 = 0.014 alone, but α 0.01 cannot confirm it; the interval is wholly past +10%.
    const [base, head] = [side([700, 705, 710, 715]), side([900, 905, 910, 915])];
    const strict = compareResults(base, head, { alpha: 0.01 });
    expect(row(strict, 'totalTimeMs')).toMatchObject({ verdict: 'inconclusive' });
    expect(row(strict, 'totalTimeMs').deltaLowPct!).toBeGreaterThan(10);
    expect(headFindings(strict)).toEqual([
      expect.stringMatching(/^1 inconclusive row that looks like a regression \(whole interval past the fail threshold, adjusted p < 0\.02\): idle-256 totalTimeMs 28\.\d% \[/),
    ]);
    expect(comparisonExitCode(strict)).toBe(1);
    expect(comparisonExitCode(compareResults(base, head, { alpha: 0.01, inconclusive: 'pass' }))).toBe(0);
    // Adjusted p not below 2α: reported, not failed.
    expect(comparisonExitCode(compareResults(base, head, { alpha: 0.005 }))).toBe(0);
  });

  test('significant but small is a warning or unchanged, never a regression', () => {
    // +3 %: significant, below the 5 % warn threshold.
    const small = compareResults(side([1000, 1001, 1002, 1003, 1004, 1005]), side([1030, 1031, 1032, 1033, 1034, 1035]));
    expect(row(small, 'totalTimeMs')).toMatchObject({ verdict: 'unchanged', reason: 'a real change, smaller than the 5% warn threshold' });
    // +7 %: above warn, below fail.
    const warn = compareResults(side([1000, 1001, 1002, 1003, 1004, 1005]), side([1070, 1071, 1072, 1073, 1074, 1075]));
    expect(row(warn, 'totalTimeMs').verdict).toBe('warn');
    expect(comparisonExitCode(warn)).toBe(0);
  });

  test('noise: overlapping samples are unchanged, with the MDE saying what could have been seen', () => {
    const c = compareResults(side([700, 760, 690, 745, 720]), side([710, 750, 700, 730, 740]));
    const total = row(c, 'totalTimeMs');
    expect(total).toMatchObject({ verdict: 'unchanged', reason: 'no change as large as the 10% fail threshold' });
    expect(total.deltaHighPct!).toBeLessThan(10);
    expect(total.p!).toBeGreaterThan(0.2);
    expect(total.mdePct!).toBeGreaterThan(3);
  });

  test('metrics that move together are adjusted as one: the same extreme labeling costs nothing twice (Holm would double it)', () => {
    const c = compareResults(side([700, 710, 705, 720, 715], [10, 11, 12, 13, 14]), side([900, 910, 905, 920, 915], [20, 21, 22, 23, 24]));
    for (const metric of ['totalTimeMs', 'downtimeMs']) {
      expect(row(c, metric)).toMatchObject({ p: 1 / 252, verdict: 'regression' });
      expect(row(c, metric).pAdjusted).toBeCloseTo(1 / 252, 12);
    }
  });

  test('every head run failed: not a sample, but a finding that fails the gate, named with its error', () => {
    const head = side([900, 910, 905, 920, 915]);
    for (const r of head.records) Object.assign(r, { status: 'failed', error: { code: 'MB_MIGRATION', message: 'migration failed: Unable to write to socket\nmore' } });
    const c = compareResults(side([700, 710, 705, 720, 715]), head);
    expect(row(c, 'totalTimeMs')).toMatchObject({ verdict: 'not comparable', reason: 'no completed run on the head' });
    expect(c.counts.regression).toBe(0);
    expect(c.failures).toEqual([
      {
        suite: 'memory-migration',
        scenario: 'idle-256',
        base: { failed: 0, total: 5 },
        head: { failed: 5, total: 5 },
        example: 'failed: MB_MIGRATION: migration failed: Unable to write to socket',
      },
    ]);
    expect(headFindings(c)).toEqual(['memory-migration / idle-256: 5 of 5 head runs failed (failed: MB_MIGRATION: migration failed: Unable to write to socket)']);
    expect(comparisonExitCode(c)).toBe(1);
    // A scenario the head did not measure at all fails it too.
    const missing = compareResults(side([700, 710, 705, 720, 715]), { ...side([1]), records: [] });
    expect(headFindings(missing)).toEqual(['memory-migration / idle-256: not measured on the head']);
  });

  test('different environments are flagged, and not judged unless allowed', () => {
    const head = side([900, 910, 905, 920, 915]);
    for (const r of head.records) r.environment = { ...r.environment, source: { ...r.environment.source, hypervisorVersion: 'QEMU 9.2.0' } };
    const base = side([700, 710, 705, 720, 715]);
    expect(environmentDifferences(base, head)).toEqual([{ field: 'hypervisor', base: expect.stringContaining('QEMU 7.2.22'), head: expect.stringContaining('QEMU 9.2.0') }]);
    const c = compareResults(base, head);
    expect(row(c, 'totalTimeMs')).toMatchObject({ verdict: 'not comparable', reason: 'environments differ (hypervisor)' });
    expect(comparisonExitCode(c)).toBe(0);
    expect(row(compareResults(base, head, { allowEnvironmentChange: true }), 'totalTimeMs').verdict).toBe('regression');
  });

  test('thresholds from the caller win; bytes default to tighter bounds than times', () => {
    expect(defaultThresholds('wireBytes')).toEqual({ warnPct: 2, failPct: 5 });
    expect(defaultThresholds('downtimeMs')).toEqual({ warnPct: 5, failPct: 10 });
    const c = compareResults(side([700, 710, 705, 720, 715]), side([900, 910, 905, 920, 915]), {
      thresholds: (_s, m) => (m === 'totalTimeMs' ? { warnPct: 50, failPct: 80 } : undefined),
    });
    expect(row(c, 'totalTimeMs').verdict).toBe('unchanged');
  });

  test('scenarios on one side only are listed, failed runs are not samples', () => {
    const base = side([700, 710, 705, 720, 715]);
    const head = { ...side([900, 910, 905, 920, 915]), records: [...side([900, 910, 905, 920, 915]).records, ...side([1], [1], 'new-one').records] };
    head.records[0] = { ...head.records[0]!, status: 'failed' };
    const c = compareResults(base, head);
    expect(c.unmatched).toEqual([{ suite: 'memory-migration', scenario: 'new-one', side: 'head' }]);
    expect(row(c, 'totalTimeMs').head.n).toBe(4);
  });
});

describe(compareMarkdown, () => {
  test('headline, the rows that matter, details per scenario with a Mermaid chart', () => {
    const c = compareResults(side([700, 710, 705, 720, 715]), side([900, 910, 905, 920, 915]));
    const md = compareMarkdown(c, { baseLabel: 'main', headLabel: 'pr-42' });
    expect(headline(c)).toMatch(/^🚨 \*\*1 regression\*\* · 0 warnings · 0 inconclusive · 0 improved · \d+ unchanged · 0 not comparable$/);
    expect(md).toContain('Base: main · head: pr-42');
    expect(md).toMatch(
      /\| memory-migration \/ idle-256 \| total ms \| +710\.0 \| +910\.0 \| \+28\.\d% \[\+\d+\.\d%, \+\d+\.\d%\] \| +[\d.<]+ \| +5\/5 \| ±[\d.]+% \| 🚨 regression/,
    );
    // n=5 is too few for a 95% interval of the median: none is printed.
    expect(md).not.toContain('710.0 [');
    expect(md).toContain('<details>\n<summary>memory-migration / idle-256: ');
    expect(md).toContain('```mermaid\nxychart-beta');
  });

  test('stays under the comment limit by leaving details out, and says where the full report is', () => {
    const many = (offset: number) => ({
      ...fixture,
      records: Array.from({ length: 400 }, (_, i) => side([700 + offset, 710 + offset, 705 + offset, 720 + offset, 715 + offset], undefined, `scenario-${i}`).records).flat(),
    });
    const md = compareMarkdown(compareResults(many(0), many(200)), { fullReport: 'results/compare.md' });
    expect(md.length).toBeLessThan(COMMENT_LIMIT);
    expect(md).toMatch(/_\d+ more rows and every scenario's details are in the full report, results\/compare.md._/);
    // 400 scenarios at n=5: the smallest adjusted p is 1 − (1 − 1/252)⁴⁰⁰ ≈ 0.8, nothing can be confirmed, and it says so.
    expect(md).toContain('400 inconclusive');
  });
});
