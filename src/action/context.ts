// GitHub's environment for a run of the Action: the event, the repository, the runner.
import { readFile } from 'node:fs/promises';
import { MigbenchError } from '../model/errors.js';
import type { GateContext } from './gate.js';

export async function contextFromEnv(env: NodeJS.ProcessEnv): Promise<GateContext> {
  const repository = env.GITHUB_REPOSITORY ?? '';
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) throw new MigbenchError('MB_USAGE', `GITHUB_REPOSITORY is "${repository}", expected owner/repo: run this as a GitHub Action`, { userError: true });
  let payload: Record<string, unknown> = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      payload = JSON.parse(await readFile(env.GITHUB_EVENT_PATH, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new MigbenchError('MB_USAGE', `cannot read the event payload ${env.GITHUB_EVENT_PATH}: ${(error as Error).message}`, { cause: error, userError: true });
    }
  }
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    payload,
    owner,
    repo,
    runnerEnvironment: env.RUNNER_ENVIRONMENT ?? 'self-hosted',
    workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    ...(env.GITHUB_REF && { ref: env.GITHUB_REF }),
    ...(env.GITHUB_SHA && { sha: env.GITHUB_SHA }),
    ...(env.GITHUB_SERVER_URL && env.GITHUB_RUN_ID && { runUrl: `${env.GITHUB_SERVER_URL}/${repository}/actions/runs/${env.GITHUB_RUN_ID}` }),
  };
}
