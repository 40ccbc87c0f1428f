import { describe, expect, test } from 'vitest';
import { projectPath } from '../../src/model/paths.js';
import { measureSlug, toBencherMetricFormat, toGithubActionBenchmark } from '../../src/render/export.js';
import { readResults } from '../../src/model/results.js';

const load = () => readResults(projectPath('fixtures/results/lab-tcg.json'));

describe('exports', () => {
  test('Bencher Metric Format: one benchmark per suite/scenario, a measure per metric, median with min/max', async () => {
    const results = await load();
    const bmf = toBencherMetricFormat(results);
    const idle = results.records.find((r) => r.scenario === 'idle-256')!;
    expect(Object.keys(bmf)).toContain('memory-migration/idle-256');
    expect(bmf['memory-migration/idle-256']!['total-time-ms']).toEqual({
      value: idle.metrics.totalTimeMs,
      lower_value: idle.metrics.totalTimeMs,
      upper_value: idle.metrics.totalTimeMs,
    });
    // A memory migration copies no disk: no such measure rather than a zero.
    expect(bmf['memory-migration/idle-256']).not.toHaveProperty('mirror-time-ms');
    expect(bmf['storage-migration/storage-idle-256']).toHaveProperty('wire-disk-bytes');
    expect(measureSlug('observedDowntimeMs')).toBe('observed-downtime-ms');
  });

  test('github-action-benchmark customSmallerIsBetter entries', async () => {
    const results = await load();
    const entries = toGithubActionBenchmark(results);
    const idle = results.records.find((r) => r.scenario === 'idle-256')!;
    expect(entries).toContainEqual({
      name: 'memory-migration/idle-256 downtime ms (observed)',
      unit: 'ms',
      value: idle.metrics.observedDowntimeMs,
      extra: 'median of 1 run (1 of 1 completed)',
    });
    for (const e of entries) expect(Number.isFinite(e.value)).toBe(true);
  });
});
