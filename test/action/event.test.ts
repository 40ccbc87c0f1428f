// What started the gate, from GitHub's event payloads (fixtures/events): every event the
// gate can be started by, and the deleted fork, which one widely used check takes for a
// pull request of the repository itself.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, test } from 'vitest';
import { gateEvent, sameRepository } from '../../src/action/event.js';
import { createGitHubClient } from '../../src/github/api.js';
import { projectPath } from '../../src/model/paths.js';
import { startFakeGitHub, type FakeGitHub } from '../fakes/github-api.js';

const TOKEN = 'ghs_eventtoken0123456789';
const repo = { owner: 'acme', repo: 'hypervisors' };
const servers: FakeGitHub[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fixture(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(projectPath('fixtures/events', `${name}.json`), 'utf8')) as Record<string, unknown>;
}

const pr = { number: 7, baseRef: 'main', baseSha: '1'.repeat(40), headSha: '2'.repeat(40) };

describe(gateEvent, () => {
  test.each([
    ['pull_request', 'pull_request.same-repo', { kind: 'pull-request', pr, fork: false, why: 'same repository id' }],
    ['pull_request', 'pull_request.fork', { kind: 'pull-request', pr, fork: true, why: 'head repository mallory/hypervisors is a fork' }],
    ['pull_request', 'pull_request.deleted-fork', { kind: 'pull-request', pr, fork: true, why: 'the head repository is gone (a deleted fork) or not in the payload' }],
    ['pull_request_target', 'pull_request_target.same-repo', { kind: 'pull-request', pr, fork: false }],
    ['pull_request_target', 'pull_request_target.fork', { kind: 'pull-request', pr, fork: true }],
    ['workflow_run', 'workflow_run.same-repo', { kind: 'pull-request', pr, fork: false }],
    ['workflow_run', 'workflow_run.fork', { kind: 'unsupported', why: 'workflow_run from a fork: head repository mallory/hypervisors is a fork' }],
    ['issue_comment', 'issue_comment.issue', { kind: 'unsupported', why: 'a comment on an issue, not on a pull request' }],
    ['merge_group', 'merge_group', { kind: 'unsupported', why: "merge_group's payload cannot say whether a queued pull request comes from a fork" }],
    ['push', 'push', { kind: 'own-ref' }],
    ['schedule', 'schedule', { kind: 'own-ref' }],
    ['workflow_dispatch', 'workflow_dispatch', { kind: 'own-ref' }],
    ['release', 'push', { kind: 'unsupported', why: 'the gate does not know the event release' }],
    ['', 'push', { kind: 'unsupported', why: 'the gate does not know the event (none)' }],
  ])('%s (%s)', async (eventName, name, expected) => {
    expect(await gateEvent(eventName, await fixture(name), null, repo)).toMatchObject(expected);
  });

  test('issue_comment on a pull request: looked up through the API and judged like one; without a token, refused', async () => {
    const payload = await fixture('issue_comment.pull-request');
    const { pull_request: same } = await fixture('pull_request.same-repo');
    const { pull_request: fork } = await fixture('pull_request.fork');
    for (const [body, isFork] of [
      [same, false],
      [fork, true],
    ] as const) {
      const github = await startFakeGitHub({ token: TOKEN, ...repo, pulls: { 7: body } });
      servers.push(github);
      const octokit = createGitHubClient({ token: TOKEN, baseUrl: github.url, waitUnitMs: 1 });
      expect(await gateEvent('issue_comment', payload, octokit, repo)).toMatchObject({ kind: 'pull-request', pr, fork: isFork });
      expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /repos/acme/hypervisors/pulls/7']);
    }
    expect(await gateEvent('issue_comment', payload, null, repo)).toEqual({ kind: 'unsupported', why: 'a pull request comment, and no token to look the pull request up' });
  });
});

describe(sameRepository, () => {
  test('by id when both have one (a fork may share the name in another owner), else by full name; anything missing is a fork', () => {
    expect(sameRepository({ id: 1, full_name: 'acme/x' }, { id: 1, full_name: 'acme/x' }).same).toBe(true);
    expect(sameRepository({ id: 2, full_name: 'acme/x' }, { id: 1, full_name: 'acme/x' }).same).toBe(false);
    expect(sameRepository({ full_name: 'ACME/x' }, { full_name: 'acme/x' }).same).toBe(true);
    expect(sameRepository({ full_name: 'mallory/x' }, { full_name: 'acme/x' }).same).toBe(false);
    expect(sameRepository(null, { id: 1 }).same).toBe(false);
    expect(sameRepository({}, { id: 1 }).same).toBe(false);
    expect(sameRepository({ id: 1 }, undefined).same).toBe(false);
  });
});
