import { describe, expect, test } from 'vitest';
import { resultsMarkdown, resultsNotes, resultsTable, teardownWarning } from '../../src/render/table.js';
import { readResults } from '../../src/model/results.js';
import { projectPath } from '../../src/model/paths.js';
import type { MigrationRecord, ResultsFile } from '../../src/generated/results.js';

const load = () => readResults(projectPath('fixtures/results/lab-tcg.json'));

describe(resultsTable, () => {
  test('one row per record, every metric, from a results file recorded in the lab', async () => {
    const results = await load();
    const lines = resultsTable(results).trim().split('\n');
    expect(lines).toHaveLength(2 + results.records.length);
    expect(lines[0]).toMatch(
      /\| suite +\| scenario +\| run \| status +\| total ms \| mirror ms \| wall ms \| setup ms \| downtime ms \(reported\) \| stop→resume ms \| downtime ms \(observed\) \| guest pause ms \| switchover gap ms \(observed\) \| switchover pause ms \(guest\) \| transferred MiB \| wire MiB \| disk copied MiB \| wire RAM MiB \| wire disk MiB \| iterations \| dirty pages\/s \| probe loss \| guest after migration +\|/,
    );
    const idle = lines.find((l) => /\| idle-256 /.test(l))!;
    const r = results.records.find((x) => x.scenario === 'idle-256')!;
    expect(idle).toContain(` ${r.metrics.downtimeMs!.toFixed(1)} `);
    expect(idle).toContain(` ${r.metrics.observedDowntimeMs!.toFixed(1)} `);
    expect(idle).toContain(` ${(r.metrics.wireBytes! / 1048576).toFixed(1)} `);
    expect(idle).toContain('ok (4096 pages, 16384 disk blocks verified)');
    const storage = lines.find((l) => l.includes('storage-idle-256'))!;
    const s = results.records.find((x) => x.scenario === 'storage-idle-256')!;
    expect(storage).toContain(` ${s.metrics.mirrorTimeMs!.toFixed(1)} `);
    expect(storage).toContain(` ${(s.metrics.wireDiskBytes! / 1048576).toFixed(1)} `);
  });

  test('unmeasured values show as —, failures and damaged guests in bold', async () => {
    const results = await load();
    const base = results.records[0]!;
    const failed: MigrationRecord = {
      ...base,
      status: 'failed',
      error: { code: 'MB_MIGRATION', message: "migration failed: Failed to connect to '10.78.0.12:1'\nmore", phase: 'migrate' },
      metrics: Object.fromEntries(Object.keys(base.metrics).map((k) => [k, null])) as unknown as MigrationRecord['metrics'],
      probe: null,
      integrity: { ...base.integrity, guestAlive: false, memoryIntact: false, problem: 'guest kernel panicked on the destination' },
    };
    const table = resultsTable({ ...results, records: [failed] });
    expect(table).toContain("**failed**: migration failed: Failed to connect to '10.78.0.12:1'");
    expect(table).not.toContain('more');
    expect(table).toContain('**guest kernel panicked on the destination**');
    expect(table.split('\n')[2]!.match(/—/g)).toHaveLength(18);
  });

  test('an empty results file says so', () => {
    expect(resultsTable({ records: [] } as unknown as ResultsFile)).toBe('_No migrations were measured._\n');
  });
});

describe(resultsNotes, () => {
  test('names the environment, the config and what each downtime column means', async () => {
    const notes = resultsNotes(await load());
    expect(notes).toMatch(/QEMU 7\.2\.22 .*accel tcg/);
    expect(notes).toContain('config suites/migbench.config.yaml');
    expect(notes).toContain('**observed** is the largest gap between ICMP replies seen from the observer (migbench-probe, every 2 ms)');
    expect(resultsMarkdown(await load())).toMatch(/^# migbench results\n\n\|/);
  });
});

describe('teardown warnings', () => {
  test('a record whose teardown failed is listed in the notes and in one loud line; none, no line', async () => {
    const results = await load();
    expect(teardownWarning(results, true)).toBeNull();
    const [first, ...rest] = results.records;
    const warned: ResultsFile = {
      ...results,
      records: [{ ...first!, warnings: [{ step: 'stop source QEMU of mb1', code: 'MB_SSH_LOST', message: 'cleanup failed: lost' }] }, ...rest],
    };
    expect(resultsNotes(warned)).toContain(
      // Escaped as data: \u200b keeps GitHub from linking "#1" to an issue.
      `- **Teardown warning** (${first!.scenario} #\u200b${first!.repetition}, measured and kept): step "stop source QEMU of mb1" failed \\[MB\\_SSH\\_LOST\\]: cleanup failed: lost`,
    );
    expect(teardownWarning(warned, true)).toBe(
      `migbench: WARNING: the teardown of 1 measured migration failed (the records stand): ${first!.scenario} #${first!.repetition}: "stop source QEMU of mb1" [MB_SSH_LOST]. \`migbench lab status\` lists what is left on the lab, \`migbench lab down\` removes it.`,
    );
  });
});
