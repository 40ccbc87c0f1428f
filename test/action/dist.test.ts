// The bundled Action (dist/index.js) run as GitHub runs it: inputs and context from the
// environment, a pull-request event payload, and a local stand-in for the GitHub API
// that records every request. Results come from a real A/B run in the lab
// (fixtures/results/ab-downtime-limit), so nothing is measured here.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { projectPath } from '../../src/model/paths.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';

const TOKEN = 'ghs_testtoken0123456789abcdefABCDEF';
let github: FakeGitHub | undefined;
afterEach(async () => github?.close());

async function runAction(event: string, inputs: Record<string, string>): Promise<{ code: number | null; stdout: string; outputs: Record<string, string>; summary: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'migbench-action-'));
  const [outputFile, summaryFile] = [join(dir, 'output'), join(dir, 'summary')];
  await writeFile(outputFile, '');
  await writeFile(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: projectPath('test/action/fixtures', event),
    GITHUB_REPOSITORY: 'acme/hypervisors',
    GITHUB_API_URL: github!.url,
    GITHUB_WORKSPACE: projectPath(),
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_ENVIRONMENT: 'self-hosted',
    'INPUT_GITHUB-TOKEN': TOKEN,
    'INPUT_RESULTS-DIR': join(dir, 'results'),
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const child = spawn(process.execPath, [projectPath('dist/index.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stdout += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  // GITHUB_OUTPUT uses name<<delimiter blocks.
  const outputs: Record<string, string> = {};
  const text = await readFile(outputFile, 'utf8');
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]!] = m[3]!;
  return { code, stdout, outputs, summary: await readFile(summaryFile, 'utf8') };
}

const FROM_LAB = { results: 'fixtures/results/ab-downtime-limit/head.json', baseline: 'fixtures/results/ab-downtime-limit/base.json', comment: 'always' };

// Each test starts node on the 1.7 MB bundle, twice for the sticky comment: seconds on a busy machine.
describe('dist/index.js', { timeout: 60_000 }, () => {
  test('posts one comparison comment, then updates the same comment; outputs and job summary set', async () => {
    github = await startFakeGitHub({ token: TOKEN, owner: 'acme', repo: 'hypervisors' });
    const first = await runAction('pull_request.json', FROM_LAB);
    // The lab's A/B has rows whose interval passes the fail threshold that 6 runs cannot confirm: the step fails, after commenting.
    expect(first.code, first.stdout).toBe(1);
    expect(first.stdout).toContain('1 inconclusive row that looks like a regression');
    const posted = github.requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/hypervisors/issues/42/comments');
    expect(posted).toHaveLength(1);
    const body = (posted[0]!.body as { body: string }).body;
    expect(body).toContain('## migbench: live migration, base vs head');
    expect(body).toMatch(/\| memory-migration \/ dirty-64m-32mbps \| +wire MiB \|/);
    expect(body.trimEnd().endsWith('-->')).toBe(true);
    expect(first.outputs).toMatchObject({ verdict: 'warn', regressions: '0' });
    expect(first.outputs['comment-id']).toMatch(/^\d+$/);
    expect(first.summary).toContain('| total ms');
    expect(first.summary).toContain('# migbench results');
    // The runner masks what ::add-mask:: names; nothing else may carry the token.
    expect(first.stdout).toContain(`::add-mask::${TOKEN}`);
    expect(first.stdout.replace(`::add-mask::${TOKEN}`, '')).not.toContain(TOKEN);

    const second = await runAction('pull_request.json', FROM_LAB);
    expect(second.code, second.stdout).toBe(1);
    expect(github.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/comments'))).toHaveLength(1);
    // Same body: left alone; the comment id is the same.
    expect(second.outputs['comment-id']).toBe(first.outputs['comment-id']);
    expect(second.stdout).toMatch(/pull request comment: (unchanged|updated)/);
  });

  test('refuses a pull request from a fork on a self-hosted runner, and says why', async () => {
    github = await startFakeGitHub({ token: TOKEN, owner: 'acme', repo: 'hypervisors' });
    const run = await runAction('pull_request_fork.json', { comment: 'always' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('refusing to measure a pull request from a fork on a self-hosted runner (head repository mallory/hypervisors is a fork)');
    expect(github.requests).toEqual([]);
  });

  test('a bad input fails the step naming the input', async () => {
    github = await startFakeGitHub({ token: TOKEN, owner: 'acme', repo: 'hypervisors' });
    const run = await runAction('pull_request.json', { ...FROM_LAB, 'fail-on': 'sometimes' });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('input fail-on: expected one of regression, threshold, never, got "sometimes"');
  });

  test('a regression fails the step (fail-on: regression) and the comment says so', async () => {
    github = await startFakeGitHub({ token: TOKEN, owner: 'acme', repo: 'hypervisors' });
    // Head against itself as base with a strict config would be unchanged; base vs head
    // swapped shows improvements. A regression needs a config that judges wire bytes
    // strictly: the A/B pair's +3.7% wire bytes with fail at 1%.
    const dir = await mkdtemp(join(tmpdir(), 'migbench-strict-'));
    const config = join(dir, 'strict.yaml');
    await writeFile(config, 'suites: {}\ncompare:\n  metrics: { wireBytes: { warnPct: 0.5, failPct: 1 } }\n');
    const run = await runAction('pull_request.json', { ...FROM_LAB, config });
    expect(run.outputs).toMatchObject({ verdict: 'regression', regressions: '1' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::1 regression(;|$)/m);
  });
});
