// The workflows and action.yml are checked, not just written: workflows against
// SchemaStore's schema with action-validator (mpalmer/action-validator, from npm), and
// action.yml against what the Action reads and writes. (action-validator 0.6's schema
// predates runs.using: node24, so action.yml is checked here instead.)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { readInputs } from '../../src/action/inputs.js';
import { projectPath } from '../../src/model/paths.js';

const workflows = readdirSync(projectPath('.github/workflows')).filter((f) => f.endsWith('.yml'));

describe('GitHub workflows', () => {
  test.each(workflows)('%s is a valid workflow', (file) => {
    const run = spawnSync(projectPath('node_modules/.bin/action-validator'), [projectPath('.github/workflows', file)], { encoding: 'utf8' });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  });

  test('no workflow a pull request starts runs on a self-hosted runner: there the pull request would run its own code beside the hypervisors', () => {
    for (const file of workflows) {
      const workflow = parse(readFileSync(projectPath('.github/workflows', file), 'utf8')) as { on: unknown; jobs: Record<string, { 'runs-on': unknown }> };
      const events = typeof workflow.on === 'string' ? [workflow.on] : Array.isArray(workflow.on) ? workflow.on : Object.keys(workflow.on as object);
      if (!events.some((e) => e === 'pull_request' || e === 'pull_request_target' || e === 'issue_comment')) continue;
      for (const [name, job] of Object.entries(workflow.jobs)) expect(JSON.stringify(job['runs-on']), `${file}: job ${name}`).not.toContain('self-hosted');
    }
  });

  test('least privilege: every workflow says which permissions it needs, none uses pull_request_target', () => {
    for (const file of workflows) {
      const text = readFileSync(projectPath('.github/workflows', file), 'utf8');
      expect(parse(text).permissions, file).toBeDefined();
      expect(text, file).not.toContain('pull_request_target');
    }
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
