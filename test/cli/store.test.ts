// `migbench store`, `baseline` and `history` as a nightly uses them, against a local
// stand-in for the GitHub API, on 80 real lab runs (fixtures/results/lab-pool.json: the 4
// default scenarios, 20 runs each) cut into four nights of 5 runs a scenario.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { resolveScenarios, suiteNames } from '../../src/config/scenarios.js';
import type { ResultsFile } from '../../src/generated/results.js';
import { projectPath } from '../../src/model/paths.js';
import { parseStoreIndex } from '../../src/model/store.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';

const TOKEN = 'ghs_storetoken0123456789abcdef';
const CONFIG = projectPath('suites/migbench.config.yaml');
let github: FakeGitHub;
let saved: NodeJS.ProcessEnv;
let dir: string;

beforeEach(async () => {
  github = await startFakeGitHub({ token: TOKEN, owner: 'acme', repo: 'hypervisors' });
  saved = { ...process.env };
  process.env.GITHUB_TOKEN = TOKEN;
  process.env.GITHUB_API_URL = github.url;
  for (const name of ['GITHUB_REF', 'GITHUB_SHA', 'GITHUB_RUN_ID']) delete process.env[name];
  dir = await mkdtemp(join(tmpdir(), 'migbench-store-'));
});
afterEach(async () => {
  process.env = saved;
  await github.close();
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let [out, err] = ['', ''];
  const code = await main(argv, { log: (l) => (err += `${l}\n`), out: (t) => (out += t) });
  return { code, out, err };
}

/** Night `n` (0-3) of the pool: runs 5n..5n+4 of each scenario, with the fingerprints migbench gives the default config's scenarios; `slower` scales the head's timings. */
async function night(n: number, slower = 1): Promise<string> {
  const pool = JSON.parse(await readFile(projectPath('fixtures/results/lab-pool.json'), 'utf8')) as ResultsFile;
  const config = (await loadConfig(CONFIG)).config;
  const fingerprints = new Map(suiteNames(config).flatMap((s) => resolveScenarios(config, s).map((x) => [x.name, x.fingerprint!])));
  const seen = new Map<string, number>();
  pool.records = pool.records.filter((r) => {
    const i = seen.get(r.scenario) ?? 0;
    seen.set(r.scenario, i + 1);
    return i >= 5 * n && i < 5 * n + 5;
  });
  for (const r of pool.records) {
    r.scenarioFingerprint = fingerprints.get(r.scenario)!;
    for (const m of ['totalTimeMs', 'downtimeMs', 'stopToResumeMs', 'observedDowntimeMs', 'guestPauseMs'] as const)
      if (r.metrics[m] !== null) r.metrics[m] = r.metrics[m]! * slower;
  }
  const path = join(dir, `night-${n}-${slower}.json`);
  await writeFile(path, JSON.stringify(pool));
  return path;
}

const sha = (n: number) => `${n}`.repeat(40);
const REPO = ['--repo', 'acme/hypervisors', '--ref', 'refs/heads/main'];

describe('stored baselines of main', { timeout: 90_000 }, () => {
  test('nights are stored, the next is compared with the last good ones, a regressed night is kept but left out, the history draws them all', async () => {
    for (const n of [0, 1, 2]) {
      const stored = await cli('store', ...REPO, '--sha', sha(n + 1), await night(n));
      expect(stored.code, stored.err).toBe(0);
      expect(stored.out).toMatch(
        new RegExp(
          `^stored \\d{8}T\\d{6}Z-${sha(n + 1).slice(0, 12)}-[0-9a-f]{4} on acme/hypervisors@migbench-data: refs/heads/main at ${sha(n + 1).slice(0, 12)}; idle-256 \\(5/5, scenario:[0-9a-f]{16}, env:[0-9a-f]{16}\\)`,
        ),
      );
    }
    // Tonight: the fourth night, unchanged; its baseline is the three stored.
    const tonight = await night(3);
    const picked = await cli('baseline', ...REPO, '--runs', '3', '--exclude-regressed', '--out', join(dir, 'baseline'), tonight);
    expect(picked.code, picked.err).toBe(0);
    expect(picked.out).toBe(`${join(dir, 'baseline', 'results.json')}: 60 records from 3 stored runs\n`);
    expect(picked.err).toContain(`memory-migration / idle-256: 3 stored runs (${sha(3).slice(0, 12)}`);
    const same = await cli('compare', '--config', CONFIG, join(dir, 'baseline'), tonight);
    expect(same.code, same.out).toBe(0);

    // A night 50% slower: a regression; stored as one, and left out of the next baseline.
    const slow = await night(3, 1.5);
    const judged = await cli('compare', '--config', CONFIG, join(dir, 'baseline'), slow);
    expect(judged.code).toBe(1);
    expect((await cli('store', ...REPO, '--sha', sha(4), '--regressed', slow)).code).toBe(0);
    const next = await cli('baseline', ...REPO, '--runs', '3', '--exclude-regressed', '--out', join(dir, 'baseline-2'), tonight);
    expect(next.err).toContain(`memory-migration / idle-256: 3 stored runs (${sha(3).slice(0, 12)}`);
    const withRegressed = await cli('baseline', ...REPO, '--runs', '3', '--out', join(dir, 'baseline-3'), tonight);
    expect(withRegressed.err).toContain(`memory-migration / idle-256: 3 stored runs (${sha(4).slice(0, 12)}`);

    const index = parseStoreIndex(github.state.files.get('migbench-data')!['index.json']!, 'index.json');
    expect(index.runs.map((r) => [r.commit.slice(0, 1), r.regressed])).toEqual([
      ['1', false],
      ['2', false],
      ['3', false],
      ['4', true],
    ]);

    const drawn = await cli('history', ...REPO, '--last', '10', '--out', join(dir, 'history'));
    expect(drawn.code, drawn.err).toBe(0);
    const markdown = await readFile(join(dir, 'history', 'history.md'), 'utf8');
    expect(markdown).toContain('## migbench: the last 4 stored runs of main (data branch migbench-data of acme/hypervisors)');
    expect(markdown).toContain('### memory-migration / idle-256');
    expect(markdown.match(/```mermaid\nxychart-beta/g)).toHaveLength(4);
    expect(markdown).toContain('judged a regression');
    const html = await readFile(join(dir, 'history', 'history.html'), 'utf8');
    expect(html.match(/<svg class="chart"/g)).toHaveLength(4 * 5);
    expect(html).toContain('fill="#b00020"');
  });

  test("a pull request's base defines a scenario otherwise than every stored run: that scenario has no baseline, and says so", async () => {
    expect((await cli('store', ...REPO, '--sha', sha(1), await night(0))).code).toBe(0);
    const changed = join(dir, 'base.yaml');
    await writeFile(changed, (await readFile(CONFIG, 'utf8')).replace(/memoryMiB: 256/, 'memoryMiB: 320'));
    const picked = await cli('baseline', ...REPO, '--config', changed, '--out', join(dir, 'b'), await night(1));
    expect(picked.code).toBe(0);
    expect(picked.err).toMatch(
      /memory-migration \/ idle-256: no stored baseline: no stored run of refs\/heads\/main measured memory-migration \/ idle-256 as the base defines it \(scenario:[0-9a-f]{16}\)/,
    );
    expect(picked.err).toContain('memory-migration / dirty-64m-32mbps: 1 stored run');
    expect(picked.out).toMatch(/: 15 records from 1 stored runs\n$/);
  });

  test('nothing stored yet: nothing written, and the nightly starts its history', async () => {
    const picked = await cli('baseline', ...REPO, '--out', join(dir, 'none'), await night(0));
    expect(picked).toMatchObject({ code: 0, out: 'no stored baseline for any scenario on acme/hypervisors@migbench-data (refs/heads/main): nothing written\n' });
    expect(github.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  test('refused without a token, a commit, or a repository, naming what is missing', async () => {
    delete process.env.GITHUB_TOKEN;
    expect(await cli('store', ...REPO, '--sha', sha(1), await night(0))).toMatchObject({
      code: 2,
      err: expect.stringContaining('store needs a token in GITHUB_TOKEN (contents: write on the repository)'),
    });
    expect(await cli('store', ...REPO, 'x.json')).toMatchObject({ code: 2, err: expect.stringContaining('store needs --sha (the commit measured) or GITHUB_SHA') });
    expect(await cli('store', '--ref', 'main', '--sha', sha(1), 'x.json')).toMatchObject({ code: 2, err: expect.stringContaining('store needs --repo OWNER/REPO') });
    expect(await cli('history', '--repo', 'acme/x', '--out', dir)).toMatchObject({ code: 2, err: expect.stringContaining('history needs --ref') });
  });
});
