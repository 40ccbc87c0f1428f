// The comparison report from two real results files: an A/B run in the lab of the same
// scenario under QEMU's default downtime-limit (300 ms, base) and 30 ms (head), 6 runs
// each, interleaved (fixtures/results/ab-downtime-limit). Reviewed once, then pinned.
import { describe, expect, test } from 'vitest';
import { compareResults } from '../../src/analysis/comparison.js';
import { projectPath } from '../../src/model/paths.js';
import { compareMarkdown } from '../../src/render/comparison.js';
import { readResults } from '../../src/model/results.js';

const load = async () =>
  [await readResults(projectPath('fixtures/results/ab-downtime-limit/base.json')), await readResults(projectPath('fixtures/results/ab-downtime-limit/head.json'))] as const;

describe('compare report from a real A/B run', () => {
  test('what the lab measured: less downtime and more bytes at 30 ms, judged with 6 runs a side', async () => {
    const [base, head] = await load();
    const comparison = compareResults(base, head);
    const rows = Object.fromEntries(comparison.rows.map((r) => [r.metric, r]));
    expect(rows.downtimeMs!.deltaPct!).toBeLessThan(-50);
    expect(rows.wireBytes!.deltaPct!).toBeGreaterThan(0);
    expect(comparison.environmentDifferences).toEqual([]);
    expect(comparison.configDiffers).toBe(true);
    await expect(compareMarkdown(comparison, { baseLabel: 'downtime-limit 300 ms', headLabel: 'downtime-limit 30 ms', samples: true })).toMatchFileSnapshot(
      '__snapshots__/ab-downtime-limit.md',
    );
  });
});
