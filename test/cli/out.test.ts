// A run never writes over an earlier run's results: it writes beside them, dated, unless
// --force says to replace them (then only migbench's own files go).
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { holdsResults, resultsDirFor } from '../../src/cli/out.js';

const NOW = new Date('2026-12-07T07:05:12.345Z');

async function scratch(files: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migbench-out-'));
  for (const file of files) {
    await mkdir(join(dir, file, '..'), { recursive: true });
    await writeFile(join(dir, file), '{}');
  }
  return dir;
}

describe(resultsDirFor, () => {
  test('an empty or new folder is used as it is', async () => {
    const empty = await scratch([]);
    expect(await resultsDirFor(empty, false, NOW)).toEqual({ dir: empty });
    expect(await resultsDirFor(join(empty, 'new'), false, NOW)).toEqual({ dir: join(empty, 'new') });
    // Files of the user's own are not results.
    const notes = await scratch(['notes.txt']);
    expect(await holdsResults(notes)).toBe(false);
  });

  test.each([['results.json'], ['base/results.json'], ['head/results.json']])('a folder holding %s is kept: the run writes beside it, dated, and says so', async (file) => {
    const dir = await scratch([file]);
    expect(await resultsDirFor(dir, false, NOW)).toEqual({
      dir: `${dir}-2026-12-07T07-05-12Z`,
      note: `results: ${dir} holds an earlier run's results, kept; this run writes to ${dir}-2026-12-07T07-05-12Z (--force replaces them instead)`,
    });
  });

  test('two runs in the same second get two folders', async () => {
    const dir = await scratch(['results.json']);
    await mkdir(`${dir}-2026-12-07T07-05-12Z`);
    expect((await resultsDirFor(dir, false, NOW)).dir).toBe(`${dir}-2026-12-07T07-05-12Z-2`);
  });

  test("--force replaces: migbench's files go, the user's stay", async () => {
    const dir = await scratch(['results.json', 'results.md', 'failures.json', 'base/results.json', 'compare.md', 'notes.txt']);
    expect(await resultsDirFor(dir, true, NOW)).toEqual({ dir, note: `results: replaced the earlier results in ${dir} (--force)` });
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });
});
