import { describe, expect, test } from 'vitest';
import { hasRepeatedScenarios, scenarioSummaries, summaryTable } from '../../src/render/summary.js';
import { resultsMarkdown, resultsNotes, resultsTable } from '../../src/render/table.js';
import { readResults } from '../../src/model/results.js';
import { projectPath } from '../../src/model/paths.js';
import type { MigrationRecord, ResultsFile } from '../../src/generated/results.js';
import { METRIC_ORDER } from '../../src/model/metrics.js';

const load = () => readResults(projectPath('fixtures/results/lab-tcg.json'));
const MiB = 1024 * 1024;

type Changes = Partial<Omit<MigrationRecord, 'metrics'>> & { metrics?: Partial<MigrationRecord['metrics']> };

/** A further run of a recorded one: same scenario, other figures and outcome. */
function rerun(base: MigrationRecord, repetition: number, changes: Changes = {}): MigrationRecord {
  const { metrics, ...rest } = changes;
  return { ...structuredClone(base), id: `${base.id}-r${repetition}`, repetition, ...rest, metrics: { ...base.metrics, ...metrics } };
}

const failedError = { code: 'MB_MIGRATION', message: 'migration failed', phase: 'migrate' };

/** The fixture's two records, with the figures the tests check pinned (a re-recorded fixture keeps them). */
async function recorded(): Promise<{ results: ResultsFile; idle: MigrationRecord; dirty: MigrationRecord }> {
  const results = await load();
  const idle = rerun(
    results.records.find((r) => r.scenario === 'idle-256')!,
    1,
    {
      status: 'completed',
      metrics: { totalTimeMs: 641, transferredBytes: 94271605, observedDowntimeMs: 70.467, iterations: 3, dirtyRatePagesPerSec: 0 },
    },
  );
  const dirty = rerun(
    results.records.find((r) => r.scenario === 'dirty-64m-32mbps')!,
    1,
    { status: 'completed', metrics: { totalTimeMs: 1211 } },
  );
  return { results, idle, dirty };
}

/** How many metrics a record has values for: the rows its scenario gets. */
const measuredCount = (r: MigrationRecord) => METRIC_ORDER.filter((m) => r.metrics[m] !== null).length;

/**
 * idle-256 three times (the first run, a slower one, and a failure with figures that
 * must not count), dirty-64m-32mbps twice (the first run and a cancelled one),
 * interleaved as they would be in a results file.
 */
async function repeated(): Promise<ResultsFile> {
  const { results, idle, dirty } = await recorded();
  const records = [
    idle,
    dirty,
    rerun(idle, 2, { metrics: { totalTimeMs: 700, transferredBytes: 100 * MiB, observedDowntimeMs: null } }),
    rerun(dirty, 2, { status: 'cancelled', error: { code: 'MB_CANCELLED', message: 'cancelled' } }),
    rerun(idle, 3, { status: 'failed', error: failedError, metrics: { totalTimeMs: 99_999, transferredBytes: 1 } }),
  ];
  return { ...results, records };
}

/** The cells of one markdown table line, trimmed. */
const cells = (line: string) =>
  line
    .split('|')
    .slice(1, -1)
    .map((c) => c.trim());

describe(scenarioSummaries, () => {
  test('groups by suite and scenario in first-appearance order, counting every outcome', async () => {
    const summaries = scenarioSummaries(await repeated());
    expect(summaries.map(({ suite, scenario, runs, completed, failed, cancelled }) => ({ suite, scenario, runs, completed, failed, cancelled }))).toEqual([
      { suite: 'memory-migration', scenario: 'idle-256', runs: 3, completed: 2, failed: 1, cancelled: 0 },
      { suite: 'memory-migration', scenario: 'dirty-64m-32mbps', runs: 2, completed: 1, failed: 0, cancelled: 1 },
    ]);
  });

  test('statistics over completed runs only, each metric over its non-null values', async () => {
    const [idle, dirty] = scenarioSummaries(await repeated());
    expect(Object.keys(idle!.metrics)).toEqual([...METRIC_ORDER]);
    const total = idle!.metrics.totalTimeMs;
    expect(total).toMatchObject({ n: 2, median: 670.5, p95: 700, min: 641, max: 700, mean: 670.5 });
    expect(total.cv).toBeCloseTo(0.062221178359442665, 12);
    expect(idle!.metrics.transferredBytes).toMatchObject({ n: 2, min: 94271605, max: 100 * MiB });
    // One completed run measured it, the other did not.
    expect(idle!.metrics.observedDowntimeMs).toEqual({ n: 1, median: 70.467, p95: 70.467, min: 70.467, max: 70.467, mean: 70.467, cv: null });
    expect(dirty!.metrics.totalTimeMs).toEqual({ n: 1, median: 1211, p95: 1211, min: 1211, max: 1211, mean: 1211, cv: null });
  });

  test('a metric nobody measured has n 0; the same scenario name in two suites is two groups', async () => {
    const { results, idle } = await recorded();
    const summaries = scenarioSummaries({
      ...results,
      records: [rerun(idle, 1, { metrics: { wireBytes: null } }), rerun(idle, 2, { metrics: { wireBytes: null } }), rerun(idle, 1, { suite: 'other' })],
    });
    expect(summaries.map((s) => [s.suite, s.runs])).toEqual([
      ['memory-migration', 2],
      ['other', 1],
    ]);
    expect(summaries[0]!.metrics.wireBytes).toEqual({ n: 0, median: null, p95: null, min: null, max: null, mean: null, cv: null });
  });

  test('no records, no groups', () => {
    expect(scenarioSummaries({ records: [] } as unknown as ResultsFile)).toEqual([]);
  });
});

describe(summaryTable, () => {
  test('one row per scenario and measured metric, formatted like the main table, CV in percent', async () => {
    const lines = summaryTable(await repeated())
      .trim()
      .split('\n');
    expect(cells(lines[0]!)).toEqual(['suite', 'scenario', 'metric', 'n', 'median', 'p95', 'min', 'max', 'CV']);
    const row = (scenario: string, label: string) => lines.map(cells).find((c) => c[1] === scenario && c[2] === label);
    expect(row('idle-256', 'total ms')).toEqual(['memory-migration', 'idle-256', 'total ms', '2', '670.5', '700.0', '641.0', '700.0', '6.2%']);
    expect(row('idle-256', 'transferred MiB')).toEqual(['memory-migration', 'idle-256', 'transferred MiB', '2', '95.0', '100.0', '89.9', '100.0', '7.5%']);
    expect(row('idle-256', 'downtime ms (observed)')).toEqual(['memory-migration', 'idle-256', 'downtime ms (observed)', '1', '70.5', '70.5', '70.5', '70.5', '—']);
    expect(row('idle-256', 'iterations')).toEqual(['memory-migration', 'idle-256', 'iterations', '2', '3', '3', '3', '3', '0.0%']);
    // dirty pages/s is 0 in both runs: a zero mean has no CV.
    expect(row('idle-256', 'dirty pages/s')).toEqual(['memory-migration', 'idle-256', 'dirty pages/s', '2', '0', '0', '0', '0', '—']);
    expect(row('dirty-64m-32mbps', 'total ms')).toEqual(['memory-migration', 'dirty-64m-32mbps', 'total ms', '1', '1211.0', '1211.0', '1211.0', '1211.0', '—']);
  });

  test('runs that did not complete are shown first in their group, never averaged away', async () => {
    const lines = summaryTable(await repeated())
      .trim()
      .split('\n');
    const rows = lines.slice(2).map(cells);
    expect(rows[0]).toEqual(['memory-migration', 'idle-256', '**2 of 3 runs completed** (1 failed)', '', '', '', '', '', '']);
    const firstDirty = rows.findIndex((c) => c[1] === 'dirty-64m-32mbps');
    expect(rows[firstDirty]).toEqual(['memory-migration', 'dirty-64m-32mbps', '**1 of 2 runs completed** (1 cancelled)', '', '', '', '', '', '']);
    // Each group: its status row and one row per metric measured in a completed run.
    const { idle, dirty } = await recorded();
    expect(rows).toHaveLength(1 + measuredCount(idle) + 1 + measuredCount(dirty));
    expect(summaryTable(await repeated())).not.toContain('99999');
  });

  test('a scenario whose every run failed still has its row', async () => {
    const { results, idle } = await recorded();
    const table = summaryTable({
      ...results,
      records: [rerun(idle, 1, { status: 'failed', error: failedError }), rerun(idle, 2, { status: 'cancelled', error: failedError })],
    });
    const rows = table.trim().split('\n').slice(2).map(cells);
    expect(rows).toEqual([['memory-migration', 'idle-256', '**0 of 2 runs completed** (1 failed, 1 cancelled)', '', '', '', '', '', '']]);
  });

  test('nothing to summarize says so', () => {
    expect(summaryTable({ records: [] } as unknown as ResultsFile)).toBe('_Nothing measured to summarize._\n');
  });
});

describe(resultsMarkdown, () => {
  test('without repetitions the output is the table and the notes, as before', async () => {
    const { results: file, idle, dirty } = await recorded();
    const results = { ...file, records: [idle, dirty] };
    expect(hasRepeatedScenarios(results)).toBe(false);
    expect(resultsMarkdown(results)).toBe(`# migbench results\n\n${resultsTable(results)}\n${resultsNotes(results)}`);
    expect(resultsMarkdown(results)).not.toContain('Summary');
  });

  test('with repetitions a summary section follows the main table', async () => {
    const results = await repeated();
    expect(hasRepeatedScenarios(results)).toBe(true);
    expect(resultsMarkdown(results)).toBe(`# migbench results\n\n${resultsTable(results)}\n## Summary over repetitions\n\n${summaryTable(results)}\n${resultsNotes(results)}`);
  });
});
