import { test as base, describe, expect, vi } from 'vitest';
import {
  commentLogin,
  createGitHubClient,
  fitBody,
  GitHubApiError,
  mergeBase,
  ENVIRONMENT_CHANGED_NOTE,
  RECOVERED_NOTE,
  REGRESSION_LABEL_COLOR,
  stickyBody,
  stickyMarker,
  TRUNCATION_NOTE,
  upsertRegressionIssue,
  upsertStickyComment,
  type GitHubLog,
} from '../../src/github/api.js';
import { formatError, UsageError } from '../../src/model/errors.js';
import { startFakeGitHub, type FakeGitHub, type FakeGitHubSeed } from '../fakes/github-api.js';

const TOKEN = 'ghs_migbenchTestTokenThatMustNeverBeLogged42';
const REPO = { owner: 'acme', repo: 'hypervisor' } as const;
const BOT = 'github-actions[bot]';

interface Logged {
  readonly level: keyof GitHubLog;
  readonly message: string;
}

/** Fake GitHubs started by a test, closed after it. */
const test = base.extend<{ github: (seed?: Omit<FakeGitHubSeed, 'token'>) => Promise<FakeGitHub> }>({
  // vitest reads a fixture's dependencies from its destructuring: this one has none.
  // eslint-disable-next-line no-empty-pattern
  github: async ({}, use) => {
    const started: FakeGitHub[] = [];
    await use(async (seed = {}) => {
      const fake = await startFakeGitHub({ ...seed, token: TOKEN });
      started.push(fake);
      return fake;
    });
    await Promise.all(started.map((f) => f.close()));
  },
});

/** A fresh client on the fake, as each Action run has its own. */
function on(fake: FakeGitHub, token = TOKEN, log?: GitHubLog, rateLimitRetries?: number) {
  return createGitHubClient({
    token,
    baseUrl: fake.url,
    userAgent: 'migbench-test',
    waitUnitMs: 1,
    ...(log && { log }),
    ...(rateLimitRetries !== undefined && { rateLimitRetries }),
  });
}

const ISSUE_PATH = '/repos/acme/hypervisor/issues';
const route = (fake: FakeGitHub) => fake.requests.map((r) => `${r.method} ${r.path}`);
const drain = (fake: FakeGitHub) => fake.requests.splice(0);

describe(stickyMarker, () => {
  test('a hidden HTML comment naming the config', () => {
    expect(stickyMarker('suites/memory.v2_ci-1')).toBe('<!-- migbench:sticky:suites/memory.v2_ci-1 -->');
  });

  test('refuses ids that could close the comment or read as markup', () => {
    for (const id of ['', 'a -->', 'a>b', 'two words', '<b>', 'x'.repeat(201), 'é']) expect(() => stickyMarker(id), id).toThrow(UsageError);
  });
});

describe(fitBody, () => {
  test('a body that fits is kept whole, trailing blank lines trimmed, marker last', () => {
    expect(stickyBody('## migbench\n\nall good\n\n\n', 'suite-a')).toEqual({ body: '## migbench\n\nall good\n\n<!-- migbench:sticky:suite-a -->', truncated: false });
  });

  test('a 100,000-character report is cut at a line boundary below 65,536 with the note, marker last', () => {
    const line = (i: number) => `| scenario-${String(i).padStart(5, '0')} | 812.4 ms | 31.2 ms |`;
    const lines = Array.from({ length: 2500 }, (_, i) => line(i));
    const report = lines.join('\n').padEnd(100_000, '\n').slice(0, 100_000);
    expect(report.length).toBe(100_000);
    const marker = stickyMarker('suite-a');

    const { body, truncated } = stickyBody(report, 'suite-a');

    expect(truncated).toBe(true);
    expect(body.length).toBeLessThan(65_536);
    // No more than one table line (and the note and marker) short of the limit.
    expect(body.length).toBeGreaterThan(65_536 - line(0).length - TRUNCATION_NOTE.length - marker.length - 8);
    expect(body.endsWith(`\n\n${TRUNCATION_NOTE}\n\n${marker}`)).toBe(true);
    const kept = body.slice(0, body.length - `\n\n${TRUNCATION_NOTE}\n\n${marker}`.length);
    expect(report.startsWith(kept)).toBe(true);
    expect(report[kept.length]).toBe('\n');
    expect(kept.split('\n').at(-1)).toMatch(/^\| scenario-\d{5} \| 812\.4 ms \| 31\.2 ms \|$/);
  });

  test('a cut inside a code fence and <details> closes both before the note', () => {
    const report = `<details><summary>All results</summary>\n\n\`\`\`text\n${'sample 1.0 ms\n'.repeat(200)}\`\`\`\n</details>`;
    const { body, truncated } = fitBody(report, { limit: 500, note: 'cut' });
    expect(truncated).toBe(true);
    expect(body.length).toBeLessThan(500);
    expect(body).toMatch(/\nsample 1\.0 ms\n```\n<\/details>\n\ncut$/);
  });

  test('one line longer than the limit is cut hard, never inside a surrogate pair', () => {
    // 51 leaves room for 47 code units: 23 emoji and the high half of a 24th, dropped.
    const { body } = fitBody('🚨'.repeat(100), { limit: 51, note: 'n' });
    expect(body).toBe(`${'🚨'.repeat(23)}\n\nn`);
    expect(body.length).toBe(49);
  });
});

describe(commentLogin, () => {
  test("a personal token's own user; github.token or an App's token (refused /user) posts as the login given", async ({ github }) => {
    expect(await commentLogin(on(await github({ viewer: 'release-bot-user' })), BOT)).toBe('release-bot-user');
    expect(await commentLogin(on(await github({ viewer: 'migbench-app[bot]' })), 'migbench-app[bot]')).toBe('migbench-app[bot]');
    expect(await commentLogin(on(await github({})), BOT)).toBe(BOT);
  });

  test("a comment carrying the marker but posted by someone else is never ours: a personal token's comment is found by its own login", async ({ github }) => {
    const marker = stickyMarker('suite-a');
    const fake = await github({
      viewer: 'ci-user',
      comments: [
        { issueNumber: 7, body: `report v1\n\n${marker}`, login: 'ci-user' },
        // Newer, with our marker: picked were the author not checked.
        { issueNumber: 7, body: `all fine, trust me\n\n${marker}`, login: 'mallory' },
      ],
    });
    const octokit = on(fake);
    const result = await upsertStickyComment(octokit, { ...REPO, issueNumber: 7, id: 'suite-a', login: await commentLogin(octokit, BOT), body: 'report v2' });
    expect(result).toMatchObject({ commentId: 1001, action: 'updated' });
    expect(fake.state.comments.find((c) => c.user.login === 'mallory')!.body).toBe(`all fine, trust me\n\n${marker}`);
  });
});

describe(upsertStickyComment, () => {
  test('creates the comment, then updates that same comment, then leaves an identical body alone', async ({ github }) => {
    const fake = await github({ comments: [{ issueNumber: 7, body: 'LGTM', login: 'octocat' }] });
    const options = { ...REPO, issueNumber: 7, id: 'suite-a', login: BOT };

    expect(await upsertStickyComment(on(fake), { ...options, body: 'report v1' })).toEqual({ commentId: 1002, action: 'created', truncated: false });
    expect(drain(fake)).toEqual([
      { method: 'GET', path: `${ISSUE_PATH}/7/comments`, query: { per_page: '100' }, body: undefined, authorization: true, status: 200 },
      { method: 'POST', path: `${ISSUE_PATH}/7/comments`, query: {}, body: { body: 'report v1\n\n<!-- migbench:sticky:suite-a -->' }, authorization: true, status: 201 },
    ]);

    expect(await upsertStickyComment(on(fake), { ...options, body: 'report v2\n' })).toEqual({ commentId: 1002, action: 'updated', truncated: false });
    expect(drain(fake)).toEqual([
      { method: 'GET', path: `${ISSUE_PATH}/7/comments`, query: { per_page: '100' }, body: undefined, authorization: true, status: 200 },
      { method: 'PATCH', path: `${ISSUE_PATH}/comments/1002`, query: {}, body: { body: 'report v2\n\n<!-- migbench:sticky:suite-a -->' }, authorization: true, status: 200 },
    ]);

    expect(await upsertStickyComment(on(fake), { ...options, body: 'report v2' })).toEqual({ commentId: 1002, action: 'unchanged', truncated: false });
    expect(route(fake)).toEqual([`GET ${ISSUE_PATH}/7/comments`]);

    expect(fake.state.comments.map((c) => [c.id, c.user.login, c.body])).toEqual([
      [1001, 'octocat', 'LGTM'],
      [1002, BOT, 'report v2\n\n<!-- migbench:sticky:suite-a -->'],
    ]);
  });

  test("another user's comment with the same marker is never edited; a marker that is not last is not ours", async ({ github }) => {
    const marker = stickyMarker('suite-a');
    const fake = await github({
      comments: [
        { issueNumber: 7, body: `copied from the bot:\n\n${marker}`, login: 'mallory' },
        { issueNumber: 7, body: `quoting ${marker} in the middle`, login: BOT },
        { issueNumber: 7, body: `other suite\n\n${stickyMarker('suite-b')}`, login: BOT },
      ],
    });

    const result = await upsertStickyComment(on(fake), { ...REPO, issueNumber: 7, id: 'suite-a', login: 'GitHub-Actions[bot]', body: 'ours' });

    expect(result).toEqual({ commentId: 1004, action: 'created', truncated: false });
    expect(route(fake)).toEqual([`GET ${ISSUE_PATH}/7/comments`, `POST ${ISSUE_PATH}/7/comments`]);
    expect(fake.state.comments.slice(0, 3).map((c) => c.body)).toEqual([
      `copied from the bot:\n\n${marker}`,
      `quoting ${marker} in the middle`,
      `other suite\n\n${stickyMarker('suite-b')}`,
    ]);
    expect(fake.state.comments[3]).toMatchObject({ id: 1004, body: `ours\n\n${marker}`, user: { login: BOT } });
  });

  test('after a past race left two, the newest is updated and none is deleted', async ({ github }) => {
    const marker = stickyMarker('suite-a');
    const fake = await github({
      comments: [
        { issueNumber: 7, body: `first\n\n${marker}`, login: BOT, createdAt: '2026-01-01T00:00:05Z' },
        { issueNumber: 7, body: `second\n\n${marker}\n`, login: BOT, createdAt: '2026-01-01T00:00:06Z' },
        { issueNumber: 7, body: 'later chatter', login: 'octocat', createdAt: '2026-01-01T00:00:07Z' },
      ],
    });

    expect(await upsertStickyComment(on(fake), { ...REPO, issueNumber: 7, id: 'suite-a', login: BOT, body: 'third' })).toMatchObject({ commentId: 1002, action: 'updated' });
    expect(route(fake)).toEqual([`GET ${ISSUE_PATH}/7/comments`, `PATCH ${ISSUE_PATH}/comments/1002`]);
    expect(fake.state.comments.map((c) => c.body)).toEqual([`first\n\n${marker}`, `third\n\n${marker}`, 'later chatter']);
  });

  test('searches all 150 comments, across two pages of 100', async ({ github }) => {
    const marker = stickyMarker('suite-a');
    const comments = Array.from({ length: 149 }, (_, i) => ({ issueNumber: 7, body: `comment ${i}`, login: i % 2 ? BOT : 'octocat' }));
    const fake = await github({ comments: [...comments, { issueNumber: 7, body: `old report\n\n${marker}`, login: BOT }] });

    expect(await upsertStickyComment(on(fake), { ...REPO, issueNumber: 7, id: 'suite-a', login: BOT, body: 'new report' })).toEqual({
      commentId: 1150,
      action: 'updated',
      truncated: false,
    });
    expect(fake.requests.map(({ method, path, query }) => ({ method, path, query }))).toEqual([
      { method: 'GET', path: `${ISSUE_PATH}/7/comments`, query: { per_page: '100' } },
      { method: 'GET', path: `${ISSUE_PATH}/7/comments`, query: { per_page: '100', page: '2' } },
      { method: 'PATCH', path: `${ISSUE_PATH}/comments/1150`, query: {} },
    ]);
    expect(fake.state.comments).toHaveLength(150);
  });

  test('a report over the limit is posted cut, and posting it again changes nothing', async ({ github }) => {
    const fake = await github();
    const report = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(12)}`).join('\n');
    expect(report.length).toBeGreaterThan(100_000);
    const options = { ...REPO, issueNumber: 9, id: 'suite-a', login: BOT, body: report };

    expect(await upsertStickyComment(on(fake), options)).toEqual({ commentId: 1001, action: 'created', truncated: true });
    const posted = fake.requests[1]!.body as { body: string };
    expect(posted.body.length).toBeLessThan(65_536);
    expect(posted.body.endsWith(`\n\n${TRUNCATION_NOTE}\n\n${stickyMarker('suite-a')}`)).toBe(true);
    expect(fake.state.comments[0]!.body).toBe(posted.body);

    expect(await upsertStickyComment(on(fake), options)).toEqual({ commentId: 1001, action: 'unchanged', truncated: true });
    expect(route(fake)).toEqual([`GET ${ISSUE_PATH}/9/comments`, `POST ${ISSUE_PATH}/9/comments`, `GET ${ISSUE_PATH}/9/comments`]);
  });
});

describe(mergeBase, () => {
  test("the compare API's merge_base_commit, not the base branch's tip", async ({ github }) => {
    const fake = await github({ compare: { 'main...feature/dirty-rate': '4b1d0c0ffee' } });
    expect(await mergeBase(on(fake), { ...REPO, base: 'main', head: 'feature/dirty-rate' })).toBe('4b1d0c0ffee');
    expect(fake.requests).toEqual([
      { method: 'GET', path: '/repos/acme/hypervisor/compare/main...feature/dirty-rate', query: { per_page: '1' }, body: undefined, authorization: true, status: 200 },
    ]);
  });

  test('an unknown ref or unrelated history names both refs', async ({ github }) => {
    const fake = await github({ compare: { 'main...orphan': null } });
    const unknown = mergeBase(on(fake), { ...REPO, base: 'main', head: 'no-such-branch' });
    await expect(unknown).rejects.toThrow(GitHubApiError);
    await expect(unknown).rejects.toThrow(/^finding the merge-base of main and no-such-branch in acme\/hypervisor: GitHub answered 404: Not Found/);
    await expect(unknown).rejects.toMatchObject({ status: 404 });

    await expect(mergeBase(on(fake), { ...REPO, base: 'main', head: 'orphan' })).rejects.toThrow(
      'finding the merge-base of main and orphan in acme/hypervisor: the compare API answered without a merge_base_commit',
    );
    await expect(mergeBase(on(fake), { ...REPO, base: '', head: 'orphan' })).rejects.toThrow(UsageError);
  });
});

describe(upsertRegressionIssue, () => {
  test('opened once, updated while the regression persists, closed with a comment when it recovers', { timeout: 20_000 }, async ({ github }) => {
    const fake = await github({
      issues: [
        { title: 'Speed up pre-copy', labels: ['migbench-regression'], pullRequest: true },
        { title: 'Old regression', labels: ['migbench-regression'], state: 'closed' },
        { title: 'Unrelated', labels: ['bug'] },
      ],
    });
    const options = { ...REPO, label: 'migbench-regression', title: 'migbench: downtime regressed on main' };
    const listing = {
      method: 'GET',
      path: ISSUE_PATH,
      query: { labels: 'migbench-regression', state: 'open', per_page: '100' },
      body: undefined,
      authorization: true,
      status: 200,
    };

    // Regressed: the label is missing, so it is created with migbench's colour first.
    expect(await upsertRegressionIssue(on(fake), { ...options, body: 'downtime +41%', state: 'regressed' })).toEqual({ issueNumber: 4, action: 'opened' });
    expect(drain(fake)).toEqual([
      listing,
      { method: 'GET', path: '/repos/acme/hypervisor/labels/migbench-regression', query: {}, body: undefined, authorization: true, status: 404 },
      {
        method: 'POST',
        path: '/repos/acme/hypervisor/labels',
        query: {},
        body: { name: 'migbench-regression', color: REGRESSION_LABEL_COLOR, description: 'A performance regression found by migbench' },
        authorization: true,
        status: 201,
      },
      { method: 'POST', path: ISSUE_PATH, query: {}, body: { title: options.title, body: 'downtime +41%', labels: ['migbench-regression'] }, authorization: true, status: 201 },
    ]);
    expect(fake.state.labels).toContainEqual({ name: 'migbench-regression', color: REGRESSION_LABEL_COLOR, description: 'A performance regression found by migbench' });

    // Still regressed: the same issue's body is replaced.
    expect(await upsertRegressionIssue(on(fake), { ...options, body: 'downtime +38%', state: 'regressed' })).toEqual({ issueNumber: 4, action: 'updated' });
    expect(drain(fake)).toEqual([listing, { method: 'PATCH', path: `${ISSUE_PATH}/4`, query: {}, body: { body: 'downtime +38%' }, authorization: true, status: 200 }]);

    // Recovered: a comment, then closed.
    expect(await upsertRegressionIssue(on(fake), { ...options, body: 'downtime -1% (not significant)', state: 'recovered' })).toEqual({ issueNumber: 4, action: 'closed' });
    expect(drain(fake)).toEqual([
      listing,
      { method: 'POST', path: `${ISSUE_PATH}/4/comments`, query: {}, body: { body: `${RECOVERED_NOTE}\n\ndowntime -1% (not significant)` }, authorization: true, status: 201 },
      { method: 'PATCH', path: `${ISSUE_PATH}/4`, query: {}, body: { state: 'closed', state_reason: 'completed' }, authorization: true, status: 200 },
    ]);

    // Still fine: nothing to do.
    expect(await upsertRegressionIssue(on(fake), { ...options, body: 'downtime +0%', state: 'recovered' })).toEqual({ issueNumber: null, action: 'none' });
    expect(drain(fake)).toEqual([listing]);

    expect(fake.state.issues.map((i) => [i.number, i.title, i.state, i.body])).toEqual([
      [1, 'Speed up pre-copy', 'open', ''],
      [2, 'Old regression', 'closed', ''],
      [3, 'Unrelated', 'open', ''],
      [4, options.title, 'closed', 'downtime +38%'],
    ]);
    expect(fake.state.comments.map((c) => [c.issueNumber, c.body])).toEqual([[4, `${RECOVERED_NOTE}\n\ndowntime -1% (not significant)`]]);
  });

  test('an environment change is noted on the open issue, which stays open; with none open, nothing is done', async ({ github }) => {
    const fake = await github({ issues: [{ title: 'migbench: live migration regression', labels: ['migbench-regression'] }] });
    const options = { ...REPO, label: 'migbench-regression', title: 'migbench: live migration regression' };
    expect(await upsertRegressionIssue(on(fake), { ...options, body: 'QEMU 7.2.22 → 8.2.2', state: 'environment-changed' })).toEqual({ issueNumber: 1, action: 'noted' });
    expect(fake.state.issues[0]!.state).toBe('open');
    expect(fake.state.comments.map((c) => c.body)).toEqual([`${ENVIRONMENT_CHANGED_NOTE}\n\nQEMU 7.2.22 → 8.2.2`]);
    fake.state.issues[0]!.state = 'closed';
    expect(await upsertRegressionIssue(on(fake), { ...options, body: 'x', state: 'environment-changed' })).toEqual({ issueNumber: null, action: 'none' });
  });

  test('a new regression opens a new issue; an existing label is left alone', async ({ github }) => {
    const fake = await github({ labels: [{ name: 'perf', color: '0e8a16' }], issues: [{ title: 'Fixed long ago', labels: ['perf'], state: 'closed' }] });
    expect(await upsertRegressionIssue(on(fake), { ...REPO, label: 'perf', title: 'regressed', body: 'b', state: 'regressed' })).toEqual({ issueNumber: 2, action: 'opened' });
    expect(route(fake)).toEqual([`GET ${ISSUE_PATH}`, 'GET /repos/acme/hypervisor/labels/perf', `POST ${ISSUE_PATH}`]);
    expect(fake.state.labels).toEqual([{ name: 'perf', color: '0e8a16', description: null }]);
  });
});

describe(createGitHubClient, () => {
  function collecting(): { log: GitHubLog; lines: Logged[] } {
    const lines: Logged[] = [];
    return {
      lines,
      log: {
        debug: (message) => lines.push({ level: 'debug', message }),
        info: (message) => lines.push({ level: 'info', message }),
        warn: (message) => lines.push({ level: 'warn', message }),
        error: (message) => lines.push({ level: 'error', message }),
      },
    };
  }

  test('writes are spaced as GitHub asks, 3 s apart when they notify, and one client never waits on another', async ({ github }) => {
    const fake = await github();
    const unitMs = 100;
    const client = () => createGitHubClient({ token: TOKEN, baseUrl: fake.url, waitUnitMs: unitMs });
    const comment = async (octokit: ReturnType<typeof client>, n: number) => {
      for (let i = 0; i < 3; i++) await octokit.rest.issues.createComment({ ...REPO, issue_number: n, body: `${i}` });
    };
    const started = performance.now();
    await Promise.all([comment(client(), 3), comment(client(), 4)]);
    // Each client's comments (writes that notify) reach GitHub at least 3 units apart: the
    // whole run takes two spacings, not none (unspaced) nor four (one limiter for both).
    const elapsedMs = performance.now() - started;
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(6);
    expect(elapsedMs).toBeGreaterThanOrEqual(2 * 3 * unitMs - 5);
    expect(elapsedMs).toBeLessThan(4 * 3 * unitMs);
  });

  test('a secondary rate limit is retried after the wait, and logged', async ({ github }) => {
    const fake = await github();
    const { log, lines } = collecting();
    fake.injectSecondaryRateLimit(1);

    expect(await upsertStickyComment(on(fake, TOKEN, log), { ...REPO, issueNumber: 3, id: 'suite-a', body: 'r' })).toMatchObject({ action: 'created' });

    expect(fake.requests.map((r) => `${r.status} ${r.method} ${r.path}`)).toEqual([
      `403 GET ${ISSUE_PATH}/3/comments`,
      `200 GET ${ISSUE_PATH}/3/comments`,
      `201 POST ${ISSUE_PATH}/3/comments`,
    ]);
    // retry-after: 0 is no answer; the plugin then waits its fallback of 60 s (60 ms here).
    expect(lines).toEqual([
      { level: 'warn', message: 'GitHub secondary rate limit on GET /repos/acme/hypervisor/issues/3/comments?per_page=100: retrying in 60 s (retry 1 of 2)' },
    ]);
  });

  test('gives up after rateLimitRetries retries', async ({ github }) => {
    const fake = await github();
    const { log, lines } = collecting();
    fake.injectSecondaryRateLimit(3, '1');

    const attempt = upsertStickyComment(on(fake, TOKEN, log, 2), { ...REPO, issueNumber: 3, id: 'suite-a', body: 'r' });
    await expect(attempt).rejects.toThrow(GitHubApiError);
    await expect(attempt).rejects.toMatchObject({
      status: 403,
      message: expect.stringMatching(/^listing the comments of acme\/hypervisor#3: GitHub answered 403: You have exceeded a secondary rate limit/),
    });
    expect(fake.requests.map((r) => r.status)).toEqual([403, 403, 403]);
    const route = `GET ${ISSUE_PATH}/3/comments?per_page=100`;
    expect(lines).toEqual([
      { level: 'warn', message: `GitHub secondary rate limit on ${route}: retrying in 1 s (retry 1 of 2)` },
      { level: 'warn', message: `GitHub secondary rate limit on ${route}: retrying in 1 s (retry 2 of 2)` },
      { level: 'error', message: `GitHub secondary rate limit on ${route}: giving up after 2 retries` },
    ]);
  });

  test('the token never appears in what is logged or thrown', async ({ github }) => {
    const fake = await github({ compare: { 'main...topic': 'abc' } });
    const { log, lines } = collecting();
    const console = [
      vi.spyOn(globalThis.console, 'log'),
      vi.spyOn(globalThis.console, 'info'),
      vi.spyOn(globalThis.console, 'warn'),
      vi.spyOn(globalThis.console, 'error'),
      vi.spyOn(globalThis.console, 'debug'),
    ];
    console.forEach((spy) => spy.mockImplementation(() => undefined));
    try {
      const thrown: unknown[] = [];
      fake.injectSecondaryRateLimit(3);
      await upsertStickyComment(on(fake, TOKEN, log), { ...REPO, issueNumber: 3, id: 'suite-a', body: 'r' }).catch((e: unknown) => thrown.push(e));
      await mergeBase(on(fake, TOKEN, log), { ...REPO, base: 'main', head: 'gone' }).catch((e: unknown) => thrown.push(e));
      // Without a log of its own the client writes warnings to the console.
      fake.injectSecondaryRateLimit(1);
      await mergeBase(on(fake), { ...REPO, base: 'main', head: 'topic' });
      // Whatever a plugin passes to the log is redacted on the way.
      on(fake, TOKEN, log).log.warn(`header authorization: token ${TOKEN}`, { token: TOKEN });

      expect(thrown).toHaveLength(2);
      expect(fake.requests.every((r) => r.authorization)).toBe(true);
      expect(lines.length).toBeGreaterThanOrEqual(4);
      expect(lines.at(-1)).toEqual({ level: 'warn', message: 'header authorization: token *** {"token":"***"}' });
      const consoleText = console.flatMap((spy) => spy.mock.calls.flat().map(String));
      expect(consoleText).toEqual(['GitHub secondary rate limit on GET /repos/{owner}/{repo}/compare/{basehead}: retrying in 60 s (retry 1 of 2)']);
      const everything = [...lines.map((l) => l.message), ...consoleText, ...thrown.map((e) => formatError(e, { stack: true })), ...thrown.map((e) => JSON.stringify(e))];
      for (const text of everything) expect(text).not.toContain(TOKEN);
    } finally {
      console.forEach((spy) => spy.mockRestore());
    }
  });

  test('a wrong token is reported as such; an empty one is refused before any request', async ({ github }) => {
    const fake = await github();
    await expect(mergeBase(on(fake, 'ghs_wrong'), { ...REPO, base: 'a', head: 'b' })).rejects.toThrow(/GitHub answered 401: Bad credentials.*\(the token is invalid or expired\)/);
    expect(() => createGitHubClient({ token: ' ', baseUrl: fake.url })).toThrow(UsageError);
    expect(fake.requests).toHaveLength(1);
  });
});
