// The gate's choices, with every dependency faked: the baseline is the merge-base from
// the compare API (not the base branch tip), its config comes from git at that commit,
// base and head run A/B; a shard runs its share; a missing merge-base config is named.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { exitMeaning, runGate, thresholdAnnotations, type GateContext, type GateIo, type Measure } from '../../src/action/gate.js';
import { createGitHubClient } from '../../src/github/api.js';
import { readInputs } from '../../src/action/inputs.js';
import { projectPath } from '../../src/model/paths.js';
import { loadConfig } from '../../src/config/load.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';
import { FakeRunner } from '../fakes/runner.js';

const TOKEN = 'ghs_gatetoken0123456789';
const MERGE_BASE = 'abcabcabcabcabcabcabcabcabcabcabcabcabca';
let github: FakeGitHub | undefined;
const servers: FakeGitHub[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((g) => g.close()));
});

const payload = (fork = false) => ({
  pull_request: {
    number: 7,
    base: { ref: 'main', sha: '1'.repeat(40), repo: { full_name: 'acme/hypervisors' } },
    head: { sha: '2'.repeat(40), repo: { full_name: fork ? 'mallory/hypervisors' : 'acme/hypervisors' } },
  },
});

async function setup(inputs: Record<string, string>, headRecords: (records: Array<Record<string, unknown>>) => unknown[] = (r) => r) {
  github = await startFakeGitHub({ token: TOKEN, owner: 'acme', repo: 'hypervisors', compare: { [`main...${'2'.repeat(40)}`]: MERGE_BASE } });
  servers.push(github);
  const workspace = await mkdtemp(join(tmpdir(), 'migbench-gate-'));
  const ctx: GateContext = { eventName: 'pull_request', payload: payload(), owner: 'acme', repo: 'hypervisors', runnerEnvironment: 'self-hosted', workspace };
  const logs: string[] = [];
  const io: GateIo = { log: (l) => logs.push(l), summary: async () => undefined, setOutput: () => undefined, annotate: () => undefined };
  const abCalls: Array<Parameters<Measure['ab']>[0]> = [];
  const measure: Measure = {
    suites: async () => ({ exitCode: 0 }),
    ab: async (o) => {
      abCalls.push(o);
      for (const side of ['base', 'head'] as const) {
        await mkdir(join(o.out, side), { recursive: true });
        const results = JSON.parse(await readFile(projectPath('fixtures/results/ab-downtime-limit', `${side}.json`), 'utf8')) as { records: Array<Record<string, unknown>> };
        if (side === 'head') results.records = headRecords(results.records) as Array<Record<string, unknown>>;
        await writeFile(join(o.out, side, 'results.json'), JSON.stringify(results));
      }
      return { exitCode: 0 };
    },
  };
  const git = new FakeRunner('runner', (argv) => (argv.includes('show') ? { stdout: 'suites: {}\n# the base config\n' } : {}));
  const octokit = createGitHubClient({ token: TOKEN, baseUrl: github.url });
  const get = (name: string) => ({ 'github-token': TOKEN, comment: 'never', ...inputs })[name] ?? '';
  return { ctx, io, logs, abCalls, measure, git, octokit, inputs: readInputs(get) };
}

describe(runGate, () => {
  test('baseline rerun: the merge-base from the compare API, its config from git, then A/B', async () => {
    const s = await setup({});
    const result = await runGate(s.inputs, s.ctx, s.io, { measure: s.measure, octokit: s.octokit, git: s.git, scenarioNames: async () => [] });
    expect(github!.requests.map((r) => `${r.method} ${r.path}`)).toContain(`GET /repos/acme/hypervisors/compare/main...${'2'.repeat(40)}`);
    expect(s.git.calls).toEqual([['git', '-C', s.ctx.workspace, 'show', `${MERGE_BASE}:migbench.yaml`]]);
    expect(s.abCalls).toHaveLength(1);
    expect(await readFile(s.abCalls[0]!.base, 'utf8')).toBe('suites: {}\n# the base config\n');
    expect(s.abCalls[0]!.head).toBe(join(s.ctx.workspace, 'migbench.yaml'));
    // +18.3% total time [+13.3, +25.0] with 6 runs a side: the test cannot confirm it, the
    // interval says it is past 10%. Inconclusive, and by default not let through.
    expect(result).toMatchObject({
      verdict: 'warn',
      regressions: 0,
      failure: expect.stringMatching(/^3 inconclusive rows whose estimate is past the fail threshold \(dirty-64m-32mbps totalTimeMs 18\.3%/),
    });
    expect(s.logs.join('\n')).toContain(`merge-base ${MERGE_BASE.slice(0, 12)} of main`);
  });

  test('a head whose migrations all failed fails the gate (fail-on: regression), naming the failure', async () => {
    const s = await setup({ 'fail-on': 'regression' }, (records) =>
      records.map((r) => ({ ...r, status: 'failed', error: { code: 'MB_MIGRATION', message: 'QEMU on the destination exited', phase: 'migrate' } })),
    );
    const result = await runGate(s.inputs, s.ctx, s.io, { measure: s.measure, octokit: s.octokit, git: s.git, scenarioNames: async () => [] });
    expect(result.regressions).toBe(0);
    expect(result.verdict).toBe('not comparable');
    expect(result.failure).toContain('memory-migration / dirty-64m-32mbps: 6 of 6 head runs failed (failed: MB_MIGRATION: QEMU on the destination exited)');
    expect(result.failure).toContain('no head run completed: nothing was measured');
  });

  test('failed assertions become annotations on their suite file and line', async () => {
    const s = await setup({});
    const annotations: Array<[string, string, number | undefined]> = [];
    const measure: Measure = {
      ...s.measure,
      ab: async (o) => {
        const r = await s.measure.ab(o);
        await writeFile(
          join(o.out, 'failures.json'),
          JSON.stringify([{ file: 'suites/memory-migration.test.ts', line: 14, test: 'memory-migration > idle #1', message: 'observed downtime 512 ms, expected at most 500 ms' }]),
        );
        return r;
      },
    };
    await runGate(s.inputs, s.ctx, { ...s.io, annotate: (m, f, l) => annotations.push([m, f, l]) }, { measure, octokit: s.octokit, git: s.git, scenarioNames: async () => [] });
    expect(annotations).toEqual([['memory-migration > idle #1: observed downtime 512 ms, expected at most 500 ms', 'suites/memory-migration.test.ts', 14]]);
  });

  test("the job summary names the run's exit status in words: 3 is the infrastructure, not the change", async () => {
    const s = await setup({});
    const summaries: string[] = [];
    const io: GateIo = { ...s.io, summary: async (md) => void summaries.push(md) };
    const ab: Measure['ab'] = async (o) => ({ ...(await s.measure.ab(o)), exitCode: 3 });
    await runGate(s.inputs, s.ctx, io, { measure: { ...s.measure, ab }, octokit: s.octokit, git: s.git, scenarioNames: async () => [] });
    expect(summaries[0]).toMatch(/^> \*\*migbench run exited 3\*\*: infrastructure: a host could not be reached, or the lab or set-up failed, so nothing was judged\./);
    expect(exitMeaning(1)).toContain('a migration failed');
    expect(exitMeaning(2)).toContain('bad input');
    expect(exitMeaning(143)).toContain('stopped by signal 15');
  });

  test('a threshold that did not hold is annotated where the user set it, in their config', async () => {
    const { config } = await loadConfig(projectPath('suites/migbench.config.yaml'));
    const lines = (await readFile(projectPath('suites/migbench.config.yaml'), 'utf8')).split('\n');
    const failures = [
      {
        file: 'suites/memory-migration.test.ts',
        line: 14,
        test: 'memory-migration > dirty-64m-32mbps #2',
        message: 'dirty-64m-32mbps #2: downtime ms (observed) (observedDowntimeMs, from probe) measured 1200.0 ms, expected at most 1000.0 ms',
      },
      // Not a threshold (no metric named), and a scenario the config does not have: nothing.
      { file: 'suites/memory-migration.test.ts', line: 12, test: 'memory-migration > idle-256 #1', message: 'the guest lost memory pages' },
      { file: 'x', line: 1, test: 'memory-migration > gone #1', message: '(totalTimeMs, from qmp)' },
    ];
    const annotations = thresholdAnnotations(failures, config, 'suites/migbench.config.yaml');
    expect(annotations).toHaveLength(1);
    expect(annotations[0]).toMatchObject({ file: 'suites/migbench.config.yaml', message: expect.stringContaining('observedDowntimeMs did not hold') });
    // The line holds that scenario's observedDowntimeMs threshold (dirty-64m-32mbps's is 1000).
    expect(lines[annotations[0]!.line - 1]).toMatch(/^\s+observedDowntimeMs: 1000$/);
  });

  test('a shard runs only its share, and says which', async () => {
    const s = await setup({ shard: '2/2' });
    await runGate(s.inputs, s.ctx, s.io, { measure: s.measure, octokit: s.octokit, git: s.git, scenarioNames: async () => ['c', 'a', 'b', 'd'] });
    expect(s.abCalls[0]!.scenarios).toEqual(['b', 'd']);
    expect(s.logs).toContain('shard 2/2: b, d');
  });

  test('a config missing at the merge-base is named, with the fix', async () => {
    const s = await setup({});
    const git = new FakeRunner('runner', () => ({ exitCode: 128, stderr: "fatal: path 'migbench.yaml' does not exist in 'abcabc'" }));
    await expect(runGate(s.inputs, s.ctx, s.io, { measure: s.measure, octokit: s.octokit, git, scenarioNames: async () => [] })).rejects.toThrow(
      /input baseline: cannot read migbench.yaml at the merge-base abcabc.*fetch-depth: 0/,
    );
  });

  test('fork pull requests run on a self-hosted runner only when allowed', async () => {
    const s = await setup({});
    const fork = { ...s.ctx, payload: payload(true) };
    await expect(runGate(s.inputs, fork, s.io, { measure: s.measure, octokit: s.octokit, git: s.git, scenarioNames: async () => [] })).rejects.toThrow(
      /refusing to run for a pull request from a fork/,
    );
    expect(s.abCalls).toHaveLength(0);
    const allowed = await setup({ 'allow-fork-pull-requests': 'true' });
    await runGate(allowed.inputs, { ...allowed.ctx, payload: payload(true) }, allowed.io, {
      measure: allowed.measure,
      octokit: allowed.octokit,
      git: allowed.git,
      scenarioNames: async () => [],
    });
    expect(allowed.abCalls).toHaveLength(1);
    // On GitHub's own runners nothing sits beside a hypervisor: no refusal.
    const hosted = await setup({});
    await runGate(hosted.inputs, { ...hosted.ctx, payload: payload(true), runnerEnvironment: 'github-hosted' }, hosted.io, {
      measure: hosted.measure,
      octokit: hosted.octokit,
      git: hosted.git,
      scenarioNames: async () => [],
    });
    expect(hosted.abCalls).toHaveLength(1);
  });
});
