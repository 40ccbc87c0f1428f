// `migbench alert`, as the nightly workflow uses it: one labelled issue opened on a
// regression, updated while it persists, closed when the metric recovers; against a
// local stand-in for the GitHub API, with results from a real A/B run in the lab.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { ResultsFile } from '../../src/generated/results.js';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { main } from '../../src/cli/main.js';
import { projectPath } from '../../src/model/paths.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';

const TOKEN = 'ghs_alerttoken0123456789abcdef';
let github: FakeGitHub;
let saved: NodeJS.ProcessEnv;

beforeEach(async () => {
  github = await startFakeGitHub({ token: TOKEN, owner: 'acme', repo: 'hypervisors' });
  saved = { ...process.env };
  process.env.GITHUB_TOKEN = TOKEN;
  process.env.GITHUB_API_URL = github.url;
});
afterEach(async () => {
  process.env = saved;
  await github.close();
});

async function alert(base: string, head: string, config: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['alert', '--repo', 'acme/hypervisors', '--config', config, isAbsolute(base) ? base : projectPath(base), isAbsolute(head) ? head : projectPath(head)], {
    log: (l) => (err += `${l}\n`),
    out: (t) => (out += t),
  });
  return { code, out, err };
}

test('opened on a regression, updated while it persists, noted (kept open) when the environment changed, closed on recovery; never a second issue', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'migbench-alert-'));
  const strict = join(dir, 'strict.yaml');
  await writeFile(strict, 'suites: {}\ncompare:\n  metrics: { wireBytes: { warnPct: 0.5, failPct: 1 } }\n');
  const [base, head] = ['fixtures/results/ab-downtime-limit/base.json', 'fixtures/results/ab-downtime-limit/head.json'];

  const first = await alert(base, head, strict);
  expect(first.code, first.err).toBe(1);
  expect(first.out).toMatch(/^1 regression; issue \d+: opened\n$/);
  const second = await alert(base, head, strict);
  expect(second.out).toMatch(/: updated\n$/);
  // Tonight ran on other hosts (a new QEMU): nothing can be judged, the issue stays open.
  const moved = JSON.parse(await readFile(projectPath(head), 'utf8')) as ResultsFile;
  for (const r of moved.records) r.environment.source.hypervisorVersion = 'QEMU 8.2.2';
  const movedPath = join(dir, 'moved.json');
  await writeFile(movedPath, JSON.stringify(moved));
  const changed = await alert(base, movedPath, strict);
  expect(changed.code).toBe(0);
  expect(changed.out).toMatch(/^environment changed \(hypervisor\); issue \d+: noted\n$/);
  expect(github.state.issues.filter((i) => i.labels.includes('migbench-regression')).map((i) => i.state)).toEqual(['open']);
  const recovered = await alert(head, head, strict);
  expect(recovered.code).toBe(0);
  expect(recovered.out).toMatch(/^0 regressions; issue \d+: closed\n$/);

  const created = github.requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/hypervisors/issues');
  expect(created).toHaveLength(1);
  expect((created[0]!.body as { labels: string[] }).labels).toEqual(['migbench-regression']);
  expect((created[0]!.body as { body: string }).body).toContain('🚨 regression');
  expect(github.state.issues.filter((i) => i.labels.includes('migbench-regression')).map((i) => i.state)).toEqual(['closed']);
  expect(first.err + second.err + recovered.err).not.toContain(TOKEN);
});

test('no token: a clear error, exit 2, nothing sent', async () => {
  delete process.env.GITHUB_TOKEN;
  const run = await alert('fixtures/results/lab-tcg.json', 'fixtures/results/lab-tcg.json', projectPath('suites/migbench.config.yaml'));
  expect(run.code).toBe(2);
  expect(run.err).toContain('alert needs a token in GITHUB_TOKEN');
  expect(github.requests).toEqual([]);
});
