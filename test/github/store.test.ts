import { afterEach, describe, expect, test } from 'vitest';
import { createGitHubClient } from '../../src/github/api.js';
import { readStoredResults, readStoreIndex, storeResults, type DataBranch } from '../../src/github/store.js';
import { addRun, parseStoreIndex, storedRun } from '../../src/model/store.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';
import { labResults } from '../fixtures.js';

const TOKEN = 'ghs_storeTestToken0123456789';
const DATA: DataBranch = { owner: 'acme', repo: 'hypervisor', branch: 'migbench-data' };
const started: FakeGitHub[] = [];
afterEach(async () => void (await Promise.all(started.splice(0).map((f) => f.close()))));

async function fakeGitHub(): Promise<FakeGitHub> {
  const fake = await startFakeGitHub({ token: TOKEN });
  started.push(fake);
  return fake;
}

const client = (fake: FakeGitHub) => createGitHubClient({ token: TOKEN, baseUrl: fake.url, waitUnitMs: 1 });
const meta = (day: number) => ({ ref: 'refs/heads/main', commit: `${day}`.padStart(2, '0').repeat(20), storedAt: new Date(Date.UTC(2026, 11, day, 3)), regressed: false });
const lines: string[] = [];
const log = (line: string) => void lines.push(line);

// GitHub asks for a second between writes, and the client keeps to it: a store takes a few seconds.
describe('the data branch', { timeout: 30_000 }, () => {
  test('is made on first use as an orphan; the run file, then the index, are written through the contents API', async () => {
    const fake = await fakeGitHub();
    const octokit = client(fake);
    expect((await readStoreIndex(octokit, DATA)).index.runs).toEqual([]);
    const { run } = await storeResults(octokit, DATA, labResults(), meta(1), { log });
    const writes = fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);
    expect(writes).toEqual([
      'POST /repos/acme/hypervisor/git/trees',
      'POST /repos/acme/hypervisor/git/commits',
      'POST /repos/acme/hypervisor/git/refs',
      `PUT /repos/acme/hypervisor/contents/${run.file}`,
      'PUT /repos/acme/hypervisor/contents/index.json',
    ]);
    expect(fake.requests.find((r) => r.path.endsWith('/git/commits'))!.body).toMatchObject({ parents: [] });
    const files = fake.state.files.get('migbench-data')!;
    expect(Object.keys(files).sort()).toEqual(['README.md', 'index.json', run.file]);
    expect(parseStoreIndex(files['index.json']!, 'index').runs.map((r) => r.id)).toEqual([run.id]);
    expect(await readStoredResults(octokit, DATA, run)).toEqual(labResults());
  });

  test('a second run joins the index; one written meanwhile by another run is read again and kept', async () => {
    const fake = await fakeGitHub();
    const octokit = client(fake);
    await storeResults(octokit, DATA, labResults(), meta(1), { log });
    const other = storedRun(labResults(), meta(2));
    fake.raceNextWrite('migbench-data', 'index.json', (text) => JSON.stringify(addRun(parseStoreIndex(text!, 'index'), other).index));
    lines.length = 0;
    await storeResults(octokit, DATA, labResults(), meta(3), { log });
    const { index } = await readStoreIndex(octokit, DATA);
    expect(index.runs.map((r) => r.commit.slice(0, 2))).toEqual(['01', '02', '03']);
    expect(lines).toEqual(['store: index.json changed while it was written (another run storing?): reading it again (attempt 2 of 5)']);
    expect(fake.requests.filter((r) => r.path.endsWith('/index.json') && r.method === 'PUT').map((r) => r.status)).toEqual([201, 409, 200]);
  });

  test('runs beyond `keep` leave the index and their files are deleted', async () => {
    const fake = await fakeGitHub();
    const octokit = client(fake);
    for (const day of [1, 2, 3]) await storeResults(octokit, DATA, labResults(), meta(day), { log, keep: 2 });
    const { index } = await readStoreIndex(octokit, DATA);
    expect(index.runs.map((r) => r.commit.slice(0, 2))).toEqual(['02', '03']);
    expect(Object.keys(fake.state.files.get('migbench-data')!).filter((f) => f.startsWith('runs/'))).toEqual(index.runs.map((r) => r.file));
    expect(fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      expect.stringMatching(/^\/repos\/acme\/hypervisor\/contents\/runs\/20261201T030000Z-010101010101-[0-9a-f]{4}\.json$/),
    ]);
  });

  test('a results file over 1 MB is read raw (the JSON form carries no content then)', async () => {
    const fake = await fakeGitHub();
    const octokit = client(fake);
    const big = labResults();
    const first = big.records[0]!;
    big.records = Array.from({ length: 170 }, (_, i) => ({ ...first, id: `mb${String(i).padStart(6, '0')}` }));
    const { run } = await storeResults(octokit, DATA, big, meta(1), { log });
    expect(fake.state.files.get('migbench-data')![run.file]!.length).toBeGreaterThan(1024 * 1024);
    expect((await readStoredResults(octokit, DATA, run)).records).toHaveLength(170);
  });

  test('an index edited by hand into something else is refused, naming the branch, file and JSON path', async () => {
    const fake = await fakeGitHub();
    const octokit = client(fake);
    await storeResults(octokit, DATA, labResults(), meta(1), { log });
    const files = fake.state.files.get('migbench-data')!;
    fake.state.files.set('migbench-data', { ...files, 'index.json': '{"schemaVersion":1,"runs":[{"id":"x"}]}' });
    await expect(readStoreIndex(octokit, DATA)).rejects.toThrow(/acme\/hypervisor@migbench-data:index\.json[\s\S]*runs\[0\]\.file: expected a string/);
  });
});
