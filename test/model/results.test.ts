import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { mergeResults, parseResults, readResults, ResultsWriter } from '../../src/model/results.js';
import { projectPath } from '../../src/model/paths.js';

const fixture = projectPath('fixtures/results/lab-tcg.json');

describe(ResultsWriter, () => {
  test('the file is valid and complete after every append, and no temp files linger', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-results-'));
    const writer = await ResultsWriter.create(dir, { path: 'c.yaml', sha256: 'f'.repeat(64) });
    expect((await readResults(writer.path)).records).toEqual([]);
    const { records } = await readResults(fixture);
    await Promise.all(records.map((r) => writer.append(r)));
    const written = await readResults(writer.path);
    expect(written.records.map((r) => r.id)).toEqual(records.map((r) => r.id));
    expect(await readdir(dir)).toEqual(['results.json']);
  });

  test('a record that does not match the schema is refused, and the file keeps what it had', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-results-'));
    const writer = await ResultsWriter.create(dir, { path: 'c.yaml', sha256: 'f'.repeat(64) });
    const [record] = (await readResults(fixture)).records;
    await writer.append(record!);
    const broken = { ...record!, metrics: { ...record!.metrics, downtimeMs: 'fast' } } as never;
    await expect(writer.append(broken)).rejects.toMatchObject({ code: 'MB_RESULTS_INVALID', message: expect.stringContaining('metrics.downtimeMs') });
    expect((await readResults(writer.path)).records).toHaveLength(1);
  });
});

describe(readResults, () => {
  test('reads a results file recorded in the lab', async () => {
    const results = await readResults(fixture);
    expect(results.schemaVersion).toBe(1);
    expect(results.records.length).toBeGreaterThan(0);
  });

  test('results of another schema version are refused with a clear message', () => {
    expect(() => parseResults({ schemaVersion: 2, records: [] }, 'new.json')).toThrow(
      /schemaVersion: expected 1, found schemaVersion 2 \(written by a newer migbench: upgrade to read it\)/,
    );
    expect(() => parseResults({ records: [] }, 'old.json')).toThrow(/found no schemaVersion/);
  });

  test('unreadable or malformed files name the file and the path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-results-'));
    await writeFile(join(dir, 'bad.json'), '{"schemaVersion": 1, ');
    await expect(readResults(join(dir, 'bad.json'))).rejects.toMatchObject({ code: 'MB_RESULTS_INVALID', message: expect.stringContaining('not JSON') });
    const valid = JSON.parse(await readFile(fixture, 'utf8'));
    valid.records[0].metrics.wireBytes = -1;
    expect(() => parseResults(valid, 'x.json')).toThrow(/records\[0\]\.metrics\.wireBytes/);
    await expect(readResults(join(dir, 'missing.json'))).rejects.toMatchObject({ message: expect.stringContaining('ENOENT') });
  });
});

describe(mergeResults, () => {
  test('combines shards of one config, in order, into a valid file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-merge-'));
    const merged = await mergeResults(join(dir, 'out'), [fixture, fixture]);
    const results = await readResults(merged.path);
    const one = await readResults(fixture);
    expect(results.records).toHaveLength(2 * one.records.length);
    expect(results.config).toEqual(one.config);
  });

  test('refuses results of another config, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'migbench-merge-'));
    const other = join(dir, 'other.json');
    const results = await readResults(fixture);
    await writeFile(other, JSON.stringify({ ...results, config: { ...results.config, sha256: 'f'.repeat(64) } }));
    await expect(mergeResults(join(dir, 'out'), [fixture, other])).rejects.toMatchObject({ code: 'MB_RESULTS_INVALID', message: expect.stringContaining(other) });
  });
});
