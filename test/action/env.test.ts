import { describe, expect, test } from 'vitest';
import { childEnvironment } from '../../src/action/env.js';
import { LocalRunner } from '../../src/exec/local.js';

describe(childEnvironment, () => {
  const actionEnv = {
    PATH: '/usr/bin:/bin',
    HOME: '/root',
    'INPUT_GITHUB-TOKEN': 'ghs_input',
    INPUT_CONFIG: 'migbench.yaml',
    GITHUB_TOKEN: 'ghs_env',
    GH_TOKEN: 'ghs_gh',
    ACTIONS_RUNTIME_TOKEN: 'rt',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc',
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc',
    GITHUB_REPOSITORY: 'acme/hypervisors',
    VCENTER_PASSWORD: 'the config names this one',
  };

  test("the Action's inputs and GitHub's tokens stay with the Action; the rest (a password the config names) goes on", () => {
    expect(childEnvironment(actionEnv)).toEqual({ PATH: '/usr/bin:/bin', HOME: '/root', GITHUB_REPOSITORY: 'acme/hypervisors', VCENTER_PASSWORD: 'the config names this one' });
  });

  test('a process started with it sees no token', async () => {
    const runner = new LocalRunner({ env: childEnvironment({ ...process.env, ...actionEnv }) });
    const env = (await runner.run(['env'])).stdout;
    expect(env).not.toMatch(/ghs_|INPUT_|ACTIONS_RUNTIME_TOKEN|oidc/);
    expect(env).toContain('VCENTER_PASSWORD=the config names this one');
  });
});
