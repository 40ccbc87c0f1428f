// migbench as a user gets it: the packed package installed into a scratch repository
// outside this checkout, `migbench init`, then `migbench run` on the embedded lab; then the
// bundled Action (dist/index.js with its dist/runtime, copied out as the runner keeps an
// action) gating a pull request of that repository. Nothing of the checkout is on the
// scratch repository's path, and no TypeScript loader is installed there.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT, projectPath } from '../../src/model/paths.js';
import { startFakeGitHub } from '../fakes/github-api.js';
import { readResults } from '../../src/model/results.js';

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** PATH without this checkout's node_modules/.bin (vitest puts it there for its workers). */
function userPath(): string {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.startsWith(PROJECT_ROOT))
    .join(delimiter);
}

function run(argv: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...extraEnv,
      ...process.env,
      PATH: userPath(),
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
    for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'NODE_OPTIONS' || key === 'TSX_TSCONFIG_PATH') delete env[key];
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(argv: readonly string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Ran> {
  const result = await run(argv, cwd, extraEnv);
  expect(result.code, `${argv.join(' ')} in ${cwd}:\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-3000)}`).toBe(0);
  return result;
}

describe('the npm package in a user repository', () => {
  test('pack, install, `migbench init`, `migbench run`: a completed record in the user repository', { timeout: 600_000 }, async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'migbench-user-'));
    await ok(['npm', 'pack', '--silent', '--pack-destination', scratch], PROJECT_ROOT);
    const tarball = (await readdir(scratch)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^migbench-\d+\.\d+\.\d+.*\.tgz$/);

    await ok(['git', 'init', '--quiet'], scratch);
    await ok(['npm', 'init', '--yes'], scratch);
    await ok(['npm', 'install', '--save-dev', '--loglevel=error', `./${tarball}`], scratch);
    // The package brings its peer vitest, and no TypeScript loader.
    expect(existsSync(join(scratch, 'node_modules', 'vitest'))).toBe(true);
    expect(existsSync(join(scratch, 'node_modules', 'tsx'))).toBe(false);

    expect((await ok(['npx', 'migbench', '--version'], scratch)).stdout).toMatch(/^migbench \d+\.\d+\.\d+/);
    const init = await ok(['npx', 'migbench', 'init'], scratch);
    expect(init.stdout).toContain('wrote migbench.yaml');
    expect(await readFile(join(scratch, 'suites', 'memory-migration.test.ts'), 'utf8')).toContain("from 'migbench/vitest'");
    // And the two workflows, the gate on pull_request_target with a released migbench.
    expect(await readFile(join(scratch, '.github', 'workflows', 'migbench-gate.yml'), 'utf8')).toMatch(/pull_request_target:[\s\S]*uses: migbench\/migbench@v1/);
    expect(await readFile(join(scratch, '.github', 'workflows', 'migbench-nightly.yml'), 'utf8')).toContain('npx migbench alert');

    const measured = await ok(['npx', 'migbench', 'run', '--junit', 'junit.xml'], scratch);
    // One progress line per migration, and the tests as JUnit XML for other CI systems.
    expect(measured.stderr).toMatch(/^\[1\/1\] idle-256 #1: total \d+ ms, observed \d+ ms$/m);
    expect(await readFile(join(scratch, 'junit.xml'), 'utf8')).toMatch(/<testcase classname="suites\/memory-migration\.test\.ts" name="memory-migration &gt; idle-256 #1"/);
    expect(measured.stdout).toContain('| memory-migration | idle-256');
    const results = await readResults(join(scratch, 'results', 'results.json'));
    expect(results.records).toHaveLength(1);
    expect(results.records[0]).toMatchObject({ suite: 'memory-migration', scenario: 'idle-256', status: 'completed' });
    // The suite that ran is the user's own file, and the config the user's own.
    expect(results.config.path).toBe('migbench.yaml');
    expect(measured.stdout + measured.stderr).toContain('suites/memory-migration.test.ts');
  });

  test('the bundled Action gates a pull request of that repository with the migbench it carries, streamed; nothing from the workspace runs', { timeout: 600_000 }, async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'migbench-user-'));
    await ok(['git', 'init', '--quiet'], scratch);
    await ok(['npm', 'run', '--silent', 'build:action', '--', '--runtime'], PROJECT_ROOT);
    const actionDir = await mkdtemp(join(tmpdir(), 'migbench-actions-'));
    // The runner keeps an action as its tag's tree; of it, the Action reads only these.
    for (const path of ['action.yml', 'package.json', 'schemas', 'dist']) await cp(projectPath(path), join(actionDir, path), { recursive: true });
    const runtimeBin = join(actionDir, 'dist', 'runtime', 'node_modules', 'migbench', 'bin', 'migbench.js');
    // The user's repository as init leaves it, and no node_modules: the Action brings its own.
    await ok([process.execPath, runtimeBin, 'init'], scratch, { PATH: userPath() });
    // What the Action executes carries no TypeScript loader, set-up script or npm install.
    for (const file of [join(actionDir, 'dist', 'index.js'), runtimeBin]) {
      expect(await readFile(file, 'utf8'), file).not.toMatch(/\btsx\b|setup\.sh|npm ci/);
    }

    const token = 'ghs_packagetest0123456789abcdefABCDEF';
    // The pull request's configs are read through the API, at the merge-base and the head: here both are what init wrote.
    const config = await readFile(join(scratch, 'migbench.yaml'), 'utf8');
    const [mergeBase, headSha] = ['a'.repeat(40), '2'.repeat(40)];
    const github = await startFakeGitHub({
      token,
      owner: 'acme',
      repo: 'hypervisors',
      compare: { [`main...${headSha}`]: mergeBase },
      files: { [mergeBase]: { 'migbench.yaml': config }, [headSha]: { 'migbench.yaml': config } },
    });
    try {
      const [outputFile, summaryFile] = [join(actionDir, 'output'), join(actionDir, 'summary')];
      await writeFile(outputFile, '');
      await writeFile(summaryFile, '');
      const env: NodeJS.ProcessEnv = {
        HOME: actionDir,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: projectPath('test/action/fixtures/pull_request.json'),
        GITHUB_REPOSITORY: 'acme/hypervisors',
        GITHUB_API_URL: github.url,
        GITHUB_WORKSPACE: scratch,
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: summaryFile,
        RUNNER_ENVIRONMENT: 'self-hosted',
        'INPUT_GITHUB-TOKEN': token,
        INPUT_CONFIG: 'migbench.yaml',
        // A baseline measured beforehand, not a rerun: one lab run a side is enough here.
        INPUT_BASELINE: 'baseline.json',
        INPUT_COMMENT: 'always',
        'INPUT_FAIL-ON': 'threshold',
        'INPUT_RESULTS-DIR': 'gate-results',
      };
      // The baseline: the same scenario measured by the Action's own runtime, beforehand.
      const quiet = await ok([process.execPath, runtimeBin, 'run', '--out', 'base', '--quiet'], scratch, { PATH: userPath() });
      // --quiet: the table and where the results are, no progress from vitest or migbench.
      expect(quiet.stdout).toContain('| memory-migration | idle-256');
      expect(quiet.stdout + quiet.stderr).not.toMatch(/\[1\/1\]|✓|RUN {2}v/);
      await cp(join(scratch, 'base', 'results.json'), join(scratch, 'baseline.json'));

      const gate = await run([process.execPath, join(actionDir, 'dist', 'index.js')], scratch, env);
      expect(gate.code, gate.stdout + gate.stderr).toBe(0);
      // Streamed: doctor's verdict, vitest's lines, the progress line and the table reach the log through the Action.
      expect(gate.stdout).toContain('Everything migbench needs is here.');
      // eslint-disable-next-line no-control-regex -- vitest colours its lines
      expect(gate.stdout.replace(/\u001b\[[\d;]*m/g, '')).toMatch(/^\s*✓ idle-256 #1/m);
      expect(gate.stdout).toMatch(/^::group::idle-256\n\[1\/1\] idle-256 #1: total \d+ ms, observed \d+ ms$/m);
      expect(gate.stdout).toMatch(/^::endgroup::$/m);
      expect(gate.stdout).toContain('| memory-migration | idle-256');
      const head = await readResults(join(scratch, 'gate-results', 'results.json'));
      expect(head.records).toHaveLength(1);
      expect(head.records[0]).toMatchObject({ scenario: 'idle-256', status: 'completed' });
      const posted = github.requests.filter((r) => r.method === 'POST' && r.path === '/repos/acme/hypervisors/issues/42/comments');
      expect(posted).toHaveLength(1);
      expect((posted[0]!.body as { body: string }).body).toContain('## migbench: live migration, base vs head');
      console.log(`the Action's streamed log:\n${gate.stdout.split('\n').slice(0, 80).join('\n')}`);
    } finally {
      await github.close();
    }
  });
});
