// The workflows and action.yml are checked, not just written: workflows against
// SchemaStore's schema with action-validator (mpalmer/action-validator, from npm), and
// action.yml against what the Action reads and writes, and every workflow (ours and the ones
// `migbench init` writes) against how a pull request could reach a self-hosted runner.
// (action-validator 0.6's schema
// predates runs.using: node24, so action.yml is checked here instead.)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { readInputs } from '../../src/action/inputs.js';
import { projectPath } from '../../src/model/paths.js';

const workflows = [
  ...readdirSync(projectPath('.github/workflows'))
    .filter((f) => f.endsWith('.yml'))
    .map((f) => projectPath('.github/workflows', f)),
  // What `migbench init` writes into a user's repository is held to the same rules.
  projectPath('templates/init/migbench-gate.yml'),
  projectPath('templates/init/migbench-nightly.yml'),
];

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: unknown;
  permissions?: unknown;
  jobs: Record<string, { 'runs-on': unknown; steps?: Step[] }>;
}

/** Events whose runs a pull request starts: its own workflow file (pull_request, merge_group) or the base's (the rest). */
const PR_OWN_FILE = ['pull_request', 'merge_group'];
const PR_STARTED = [...PR_OWN_FILE, 'pull_request_target', 'issue_comment', 'workflow_run'];

/**
 * Why a workflow could run a pull request's code on a self-hosted runner, or null. Where the
 * pull request supplies the workflow file itself, no self-hosted job at all; where the base
 * does, a self-hosted job may only use a released migbench (which reads the pull request as
 * data): no run steps, no checkout, no local action.
 */
export function selfHostedRisk(workflow: Workflow): string | null {
  const events = typeof workflow.on === 'string' ? [workflow.on] : Array.isArray(workflow.on) ? (workflow.on as string[]) : Object.keys(workflow.on as object);
  const started = events.filter((e) => PR_STARTED.includes(e));
  if (!started.length) return null;
  for (const [name, job] of Object.entries(workflow.jobs)) {
    if (!JSON.stringify(job['runs-on']).includes('self-hosted')) continue;
    if (started.some((e) => PR_OWN_FILE.includes(e))) return `job ${name}: self-hosted, started by ${started.join(', ')}, whose workflow file the pull request supplies`;
    for (const step of job.steps ?? []) {
      if (step.run !== undefined) return `job ${name}: a run step on a self-hosted runner started by ${started.join(', ')}`;
      if (!/^migbench\/migbench@[\w.-]+$/.test(step.uses ?? '')) return `job ${name}: step ${step.uses ?? '(none)'} is not a released migbench`;
    }
  }
  return null;
}

describe('GitHub workflows', () => {
  test.each(workflows)('%s is a valid workflow', (file) => {
    const run = spawnSync(projectPath('node_modules/.bin/action-validator'), [file], { encoding: 'utf8' });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  });

  test.each(workflows)('%s: a pull request cannot run its code on a self-hosted runner with it', (file) => {
    expect(selfHostedRisk(parse(readFileSync(file, 'utf8')) as Workflow)).toBeNull();
  });

  test('the rule bites: each way a pull request could run code beside the hypervisors is caught', () => {
    const gate = parse(readFileSync(projectPath('templates/init/migbench-gate.yml'), 'utf8')) as Workflow;
    const job = gate.jobs.gate!;
    expect(selfHostedRisk({ ...gate, on: { pull_request: {} } })).toMatch(/whose workflow file the pull request supplies/);
    expect(selfHostedRisk({ ...gate, jobs: { gate: { ...job, steps: [{ uses: './' }] } } })).toMatch(/step \.\/ is not a released migbench/);
    expect(selfHostedRisk({ ...gate, jobs: { gate: { ...job, steps: [{ uses: 'actions/checkout@v5', with: { ref: '${{ github.event.pull_request.head.sha }}' } }] } } })).toMatch(
      /not a released migbench/,
    );
    expect(selfHostedRisk({ ...gate, jobs: { gate: { ...job, steps: [{ run: 'npm ci' }] } } })).toMatch(/a run step/);
    expect(selfHostedRisk({ ...gate, on: 'issue_comment', jobs: { gate: { ...job, steps: [{ run: 'make' }] } } })).toMatch(/a run step/);
  });

  test('least privilege: every workflow says which permissions it needs', () => {
    for (const file of workflows) expect((parse(readFileSync(file, 'utf8')) as Workflow).permissions, file).toBeDefined();
  });

  test('the gate init writes reads the pull request through the API only: pull_request_target, a released migbench, no checkout', () => {
    const gate = parse(readFileSync(projectPath('templates/init/migbench-gate.yml'), 'utf8')) as Workflow;
    expect(Object.keys(gate.on as object)).toEqual(['pull_request_target']);
    expect(gate.jobs.gate!.steps).toEqual([expect.objectContaining({ uses: 'migbench/migbench@v1' })]);
    expect(gate.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
  });
});

describe('action.yml', () => {
  const action = parse(readFileSync(projectPath('action.yml'), 'utf8')) as {
    runs: { using: string; main: string };
    inputs: Record<string, { default?: string }>;
    outputs: Record<string, unknown>;
  };

  test('runs dist/index.js on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  });

  test('declares every input the Action reads, and reads every input it declares', () => {
    const read = new Set<string>();
    readInputs((name) => {
      read.add(name);
      return name === 'github-token' ? 'x' : '';
    });
    expect(Object.keys(action.inputs).sort()).toEqual([...read].sort());
  });

  test('its defaults are valid inputs', () => {
    expect(() => readInputs((name) => (name === 'github-token' ? 'x' : (action.inputs[name]?.default ?? '')))).not.toThrow();
  });

  test('declares the outputs main.ts sets', () => {
    const main = readFileSync(projectPath('src/action/main.ts'), 'utf8');
    const set = [...main.matchAll(/setOutput\('([\w-]+)'/g)].map((m) => m[1]);
    expect(Object.keys(action.outputs).sort()).toEqual([...new Set(set)].sort());
  });
});

/**
 * Every migbench command a workflow runs, as argv: `npx migbench …` and `npm run migbench -- …`
 * lines, shell variables given stand-in values, an empty array expansion dropped, pipes and
 * redirections cut off.
 */
export function migbenchCommands(script: string): string[][] {
  const commands: string[][] = [];
  for (const line of script.split('\n')) {
    const m = /(?:npx migbench|npm run (?:--silent )?migbench --) (.*)$/.exec(line);
    if (!m) continue;
    const words = m[1]!
      .split(/\s+(?:\||>|2>)/)[0]!
      .match(/"[^"]*"|'[^']*'|\S+/g)!
      .filter((w) => w !== '"${regressed[@]}"')
      .map((w) => w.replace(/^["']|["']$/g, ''))
      .map((w) =>
        w.replace(/\$\{\{[^}]*\}\}|\$\{?(\w+)\}?/g, (_, name?: string) => (name === 'GITHUB_REPOSITORY' ? 'acme/hypervisors' : name === 'GITHUB_REF' ? 'refs/heads/main' : '1/2')),
      );
    commands.push(words);
  }
  return commands;
}

test.each(workflows)('%s: every migbench command it runs parses (flags and arguments as the CLI takes them)', async (file) => {
  const { parseCommand } = await import('../../src/cli/args.js');
  const workflow = parse(readFileSync(file, 'utf8')) as Workflow;
  const scripts = Object.values(workflow.jobs).flatMap((job) => (job.steps ?? []).flatMap((s) => (s.run ? [s.run] : [])));
  // What every job's environment has.
  const saved = { ...process.env };
  Object.assign(process.env, { GITHUB_SHA: 'a'.repeat(40), GITHUB_REF: 'refs/heads/main' });
  try {
    for (const argv of scripts.flatMap(migbenchCommands)) expect(() => parseCommand(argv), argv.join(' ')).not.toThrow();
  } finally {
    process.env = saved;
  }
});

test('the command check bites: a flag the CLI does not take is caught', async () => {
  const { parseCommand } = await import('../../src/cli/args.js');
  const [argv] = migbenchCommands('npx migbench baseline --repo "$GITHUB_REPOSITORY" --ref "$GITHUB_REF" --last 7 --out baseline tonight | tee x');
  expect(argv).toEqual(['baseline', '--repo', 'acme/hypervisors', '--ref', 'refs/heads/main', '--last', '7', '--out', 'baseline', 'tonight']);
  expect(() => parseCommand(argv!)).toThrow(/--last/);
});
