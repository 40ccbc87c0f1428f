// A stand-in for the GitHub REST API on 127.0.0.1: the few endpoints src/github/api.ts
// calls, with state in memory, Link-header pagination that honours per_page, and every
// request recorded (method, path, query, JSON body, whether it was authorized).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUser {
  readonly login: string;
  readonly type: 'User' | 'Bot';
}

export interface FakeComment {
  readonly id: number;
  readonly issueNumber: number;
  body: string;
  readonly user: FakeUser;
  readonly createdAt: string;
  updatedAt: string;
}

export interface FakeIssue {
  readonly number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  stateReason: string | null;
  labels: string[];
  readonly user: FakeUser;
  /** A pull request: the issues list returns it too, with a pull_request field. */
  readonly pullRequest: boolean;
  readonly createdAt: string;
}

export interface FakeLabel {
  readonly name: string;
  readonly color: string;
  readonly description: string | null;
}

export interface FakeGitHubState {
  readonly owner: string;
  readonly repo: string;
  readonly comments: FakeComment[];
  readonly issues: FakeIssue[];
  readonly labels: FakeLabel[];
  /** Keyed by `base...head`; a null merge-base answers without merge_base_commit. */
  readonly compare: Map<string, string | null>;
  /** Files of the repository by ref (a sha), then path: what the contents API serves. */
  readonly files: Map<string, Readonly<Record<string, string>>>;
  /** Pull requests by number, as the pulls API returns them. */
  readonly pulls: Map<number, unknown>;
  /** Branches made or written through the API: name → tip commit sha; their files are in `files` under the branch name. */
  readonly branches: Map<string, string>;
}

export interface FakeGitHubSeed {
  /** @default 'acme' */
  readonly owner?: string;
  /** @default 'hypervisor' */
  readonly repo?: string;
  /** The only token accepted; any other answers 401. */
  readonly token: string;
  /** Who the token acts as: the author of what it creates. @default 'github-actions[bot]' */
  readonly viewer?: string;
  readonly comments?: ReadonlyArray<{ issueNumber: number; body: string; login: string; createdAt?: string }>;
  readonly issues?: ReadonlyArray<{ title: string; body?: string; state?: 'open' | 'closed'; labels?: string[]; pullRequest?: boolean; login?: string }>;
  readonly labels?: ReadonlyArray<{ name: string; color?: string }>;
  /** `base...head` → merge-base sha (null: answered without merge_base_commit). */
  readonly compare?: Readonly<Record<string, string | null>>;
  /** ref → path → text, for the contents API. */
  readonly files?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** number → pull request object, for the pulls API. */
  readonly pulls?: Readonly<Record<number, unknown>>;
}

export interface RecordedRequest {
  readonly method: string;
  /** Decoded, without the query. */
  readonly path: string;
  readonly query: Record<string, string>;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  /** An Authorization header was sent (its value is never recorded). */
  readonly authorization: boolean;
  /** What the fake answered. */
  status: number;
}

export interface FakeGitHub {
  /** The API root to give octokit as baseUrl. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly state: FakeGitHubState;
  /** The next `times` requests are refused with GitHub's 403 secondary rate limit and `retry-after`. */
  injectSecondaryRateLimit(times?: number, retryAfter?: string): void;
  /**
   * Another writer, just before the next PUT of `path` on `branch`: `rewrite` gets the file's
   * text (undefined when absent) and returns what that writer stored, so the PUT's sha is stale.
   */
  raceNextWrite(branch: string, path: string, rewrite: (text: string | undefined) => string): void;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A file's bytes as the raw media type answers them. */
class RawBody {
  constructor(readonly text: string) {}
}

const EPOCH_MS = Date.parse('2026-01-01T00:00:00Z');

export async function startFakeGitHub(seed: FakeGitHubSeed): Promise<FakeGitHub> {
  const viewer: FakeUser = { login: seed.viewer ?? 'github-actions[bot]', type: (seed.viewer ?? '[bot]').endsWith('[bot]') ? 'Bot' : 'User' };
  const userOf = (login: string): FakeUser => ({ login, type: login.endsWith('[bot]') ? 'Bot' : 'User' });
  // One tick per creation: created_at follows creation order, one second apart.
  let clock = 0;
  const now = () => new Date(EPOCH_MS + 1000 * clock++).toISOString();
  let nextCommentId = 1001;

  const state: FakeGitHubState = {
    owner: seed.owner ?? 'acme',
    repo: seed.repo ?? 'hypervisor',
    comments: [],
    issues: [],
    labels: (seed.labels ?? []).map((l) => ({ name: l.name, color: l.color ?? 'ededed', description: null })),
    compare: new Map(Object.entries(seed.compare ?? {})),
    files: new Map(Object.entries(seed.files ?? {})),
    pulls: new Map(Object.entries(seed.pulls ?? {}).map(([n, pr]) => [Number(n), pr])),
    branches: new Map(),
  };
  for (const c of seed.comments ?? []) {
    const at = c.createdAt ?? now();
    state.comments.push({ id: nextCommentId++, issueNumber: c.issueNumber, body: c.body, user: userOf(c.login), createdAt: at, updatedAt: at });
  }
  for (const i of seed.issues ?? []) {
    state.issues.push({
      number: state.issues.length + 1,
      title: i.title,
      body: i.body ?? '',
      state: i.state ?? 'open',
      stateReason: null,
      labels: [...(i.labels ?? [])],
      user: userOf(i.login ?? 'octocat'),
      pullRequest: i.pullRequest ?? false,
      createdAt: now(),
    });
  }

  const requests: RecordedRequest[] = [];
  let rateLimited = 0;
  let rateLimitRetryAfter = '0';
  let url = '';

  const commentJson = (c: FakeComment) => ({
    id: c.id,
    node_id: `IC_${c.id}`,
    body: c.body,
    user: { login: c.user.login, type: c.user.type },
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    html_url: `https://github.com/${state.owner}/${state.repo}/issues/${c.issueNumber}#issuecomment-${c.id}`,
  });
  const labelJson = (name: string) => {
    const l = state.labels.find((x) => x.name === name);
    return { name, color: l?.color ?? 'ededed', description: l?.description ?? null };
  };
  const issueJson = (i: FakeIssue) => ({
    number: i.number,
    title: i.title,
    body: i.body,
    state: i.state,
    state_reason: i.stateReason,
    labels: i.labels.map(labelJson),
    user: { login: i.user.login, type: i.user.type },
    created_at: i.createdAt,
    ...(i.pullRequest && { pull_request: { url: `${url}/repos/${state.owner}/${state.repo}/pulls/${i.number}` } }),
  });

  /** One page of `items` and the Link header that leads to the next, as GitHub paginates. */
  const page = <T>(res: ServerResponse, rawPath: string, query: Record<string, string>, items: readonly T[]): T[] => {
    const perPage = Math.min(100, Math.max(1, Number(query.per_page ?? 30)));
    const number = Math.max(1, Number(query.page ?? 1));
    const pages = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number) => `<${url}${rawPath}?${new URLSearchParams({ ...query, page: String(p) })}>`;
    const links: string[] = [];
    if (number < pages) links.push(`${link(number + 1)}; rel="next"`, `${link(pages)}; rel="last"`);
    if (number > 1) links.push(`${link(1)}; rel="first"`, `${link(number - 1)}; rel="prev"`);
    if (links.length) res.setHeader('link', links.join(', '));
    return items.slice((number - 1) * perPage, number * perPage);
  };

  const issueByNumber = (n: string): FakeIssue => {
    const issue = state.issues.find((i) => i.number === Number(n));
    if (!issue) throw new HttpError(404, 'Not Found');
    return issue;
  };

  // Git's blob id: what GitHub answers as a file's sha, and wants back to change it.
  const blobSha = (text: string) =>
    createHash('sha1')
      .update(`blob ${Buffer.byteLength(text)}\0${text}`)
      .digest('hex');
  let commits = 0;
  const commitOn = (branch: string) => {
    const sha = createHash('sha1').update(`commit ${++commits}`).digest('hex');
    state.branches.set(branch, sha);
    return sha;
  };
  const races: Array<{ branch: string; path: string; rewrite: (text: string | undefined) => string }> = [];
  const trees = new Map<string, Record<string, string>>();
  const commitTrees = new Map<string, Record<string, string>>();

  /** The contents API's PUT and DELETE on a branch: the blob sha guards every change, as on GitHub. */
  function writeContents(method: string, path: string, body: Record<string, unknown>): [number, unknown] {
    const branch = typeof body.branch === 'string' ? body.branch : 'main';
    if (!state.branches.has(branch)) throw new HttpError(404, `Branch ${branch} not found`);
    const files = { ...(state.files.get(branch) ?? {}) };
    const race = races.findIndex((r) => r.branch === branch && r.path === path);
    if (race >= 0 && method === 'PUT') {
      files[path] = races[race]!.rewrite(files[path]);
      races.splice(race, 1);
      state.files.set(branch, { ...files });
      commitOn(branch);
    }
    const current = files[path];
    if (typeof body.message !== 'string' || !body.message) throw new HttpError(422, 'Invalid request. "message" wasn\'t supplied.');
    if (method === 'DELETE') {
      if (current === undefined) throw new HttpError(404, 'Not Found');
      if (body.sha !== blobSha(current)) throw new HttpError(409, `${path} does not match ${String(body.sha)}`);
      delete files[path];
      state.files.set(branch, files);
      return [200, { content: null, commit: { sha: commitOn(branch) } }];
    }
    if (current !== undefined && body.sha === undefined) throw new HttpError(422, 'Invalid request. "sha" wasn\'t supplied.');
    if (current !== undefined && body.sha !== blobSha(current)) throw new HttpError(409, `${path} does not match ${String(body.sha)}`);
    if (typeof body.content !== 'string') throw new HttpError(422, 'Invalid request. "content" wasn\'t supplied.');
    files[path] = Buffer.from(body.content, 'base64').toString('utf8');
    state.files.set(branch, files);
    return [current === undefined ? 201 : 200, { content: { path, sha: blobSha(files[path]!) }, commit: { sha: commitOn(branch) } }];
  }

  /** The git data API, as far as making an orphan branch goes. */
  function gitData(method: string, rest: string, body: Record<string, unknown>): [number, unknown] | null {
    let m: RegExpExecArray | null;
    if ((m = /^\/git\/ref\/heads\/(.+)$/.exec(rest)) && method === 'GET') {
      const sha = state.branches.get(m[1]!);
      if (!sha) throw new HttpError(404, 'Not Found');
      return [200, { ref: `refs/heads/${m[1]}`, object: { sha, type: 'commit' } }];
    }
    if (rest === '/git/trees' && method === 'POST') {
      const entries = Array.isArray(body.tree) ? (body.tree as Array<{ path: string; content: string }>) : [];
      const sha = createHash('sha1').update(JSON.stringify(entries)).digest('hex');
      trees.set(sha, Object.fromEntries(entries.map((e) => [e.path, e.content])));
      return [201, { sha, tree: entries }];
    }
    if (rest === '/git/commits' && method === 'POST') {
      const tree = trees.get(String(body.tree));
      if (!tree) throw new HttpError(422, 'Tree SHA does not exist');
      const sha = createHash('sha1').update(`commit ${++commits}`).digest('hex');
      commitTrees.set(sha, tree);
      return [201, { sha, parents: body.parents }];
    }
    if (rest === '/git/refs' && method === 'POST') {
      const ref = String(body.ref);
      const name = ref.replace(/^refs\/heads\//, '');
      if (state.branches.has(name)) throw new HttpError(422, 'Reference already exists');
      const tree = commitTrees.get(String(body.sha));
      if (!tree) throw new HttpError(422, 'Object does not exist');
      state.branches.set(name, String(body.sha));
      state.files.set(name, { ...tree });
      return [201, { ref, object: { sha: body.sha, type: 'commit' } }];
    }
    return null;
  }

  function route(method: string, path: string, rawPath: string, query: Record<string, string>, body: Record<string, unknown>, res: ServerResponse, raw = false): [number, unknown] {
    const prefix = `/repos/${state.owner}/${state.repo}`;
    if (!path.startsWith(`${prefix}/`)) throw new HttpError(404, 'Not Found');
    const rest = path.slice(prefix.length);
    let m: RegExpExecArray | null;

    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const issueNumber = Number(m[1]);
      if (method === 'GET')
        return [
          200,
          page(
            res,
            rawPath,
            query,
            state.comments.filter((c) => c.issueNumber === issueNumber),
          ).map(commentJson),
        ];
      if (method === 'POST') {
        if (typeof body.body !== 'string') throw new HttpError(422, 'Validation Failed');
        if (body.body.length > 65_536) throw new HttpError(422, 'Validation Failed', { errors: [{ message: 'Body is too long (maximum is 65536 characters)' }] });
        const at = now();
        const comment: FakeComment = { id: nextCommentId++, issueNumber, body: body.body, user: viewer, createdAt: at, updatedAt: at };
        state.comments.push(comment);
        return [201, commentJson(comment)];
      }
    }
    if ((m = /^\/issues\/comments\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      const comment = state.comments.find((c) => c.id === Number(m![1]));
      if (!comment) throw new HttpError(404, 'Not Found');
      if (typeof body.body !== 'string') throw new HttpError(422, 'Validation Failed');
      if (body.body.length > 65_536) throw new HttpError(422, 'Validation Failed', { errors: [{ message: 'Body is too long (maximum is 65536 characters)' }] });
      comment.body = body.body;
      comment.updatedAt = now();
      return [200, commentJson(comment)];
    }
    if (rest === '/issues' && method === 'GET') {
      const wanted = (query.labels ?? '').split(',').filter(Boolean);
      const stateWanted = query.state ?? 'open';
      const matching = state.issues
        .filter((i) => (stateWanted === 'all' || i.state === stateWanted) && wanted.every((l) => i.labels.includes(l)))
        .sort((a, b) => b.number - a.number); // GitHub's default: newest first
      return [200, page(res, rawPath, query, matching).map(issueJson)];
    }
    if (rest === '/issues' && method === 'POST') {
      if (typeof body.title !== 'string' || !body.title) throw new HttpError(422, 'Validation Failed');
      const labels = Array.isArray(body.labels) ? body.labels.map(String) : [];
      // Like GitHub for a writer: labels that do not exist are created, grey.
      for (const name of labels) if (!state.labels.some((l) => l.name === name)) state.labels.push({ name, color: 'ededed', description: null });
      const issue: FakeIssue = {
        number: state.issues.length + 1,
        title: body.title,
        body: typeof body.body === 'string' ? body.body : '',
        state: 'open',
        stateReason: null,
        labels,
        user: viewer,
        pullRequest: false,
        createdAt: now(),
      };
      state.issues.push(issue);
      return [201, issueJson(issue)];
    }
    if ((m = /^\/issues\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      const issue = issueByNumber(m[1]!);
      if (typeof body.title === 'string') issue.title = body.title;
      if (typeof body.body === 'string') issue.body = body.body;
      if (body.state === 'open' || body.state === 'closed') {
        issue.state = body.state;
        issue.stateReason = body.state === 'closed' ? (typeof body.state_reason === 'string' ? body.state_reason : 'completed') : 'reopened';
      }
      if (Array.isArray(body.labels)) issue.labels = body.labels.map(String);
      return [200, issueJson(issue)];
    }
    if ((m = /^\/labels\/([^/]+)$/.exec(rest)) && method === 'GET') {
      const label = state.labels.find((l) => l.name.toLowerCase() === m![1]!.toLowerCase());
      if (!label) throw new HttpError(404, 'Not Found');
      return [200, label];
    }
    if (rest === '/labels' && method === 'POST') {
      if (typeof body.name !== 'string' || typeof body.color !== 'string') throw new HttpError(422, 'Validation Failed');
      if (state.labels.some((l) => l.name.toLowerCase() === (body.name as string).toLowerCase()))
        throw new HttpError(422, 'Validation Failed', { errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }] });
      const label: FakeLabel = { name: body.name, color: body.color, description: typeof body.description === 'string' ? body.description : null };
      state.labels.push(label);
      return [201, label];
    }
    if ((m = /^\/contents\/(.+)$/.exec(rest)) && method === 'GET') {
      const text = state.files.get(query.ref ?? '')?.[m[1]!];
      if (text === undefined) throw new HttpError(404, 'Not Found');
      if (raw) return [200, new RawBody(text)];
      const size = Buffer.byteLength(text);
      // As GitHub: over 1 MB the JSON form comes without content (encoding "none").
      const content = size > 1024 * 1024 ? '' : Buffer.from(text).toString('base64');
      return [200, { type: 'file', encoding: size > 1024 * 1024 ? 'none' : 'base64', path: m[1], name: m[1]!.split('/').pop(), size, content, sha: blobSha(text) }];
    }
    if ((m = /^\/contents\/(.+)$/.exec(rest)) && (method === 'PUT' || method === 'DELETE')) return writeContents(method, m[1]!, body);
    const git = gitData(method, rest, body);
    if (git) return git;
    if ((m = /^\/pulls\/(\d+)$/.exec(rest)) && method === 'GET') {
      const pr = state.pulls.get(Number(m[1]));
      if (!pr) throw new HttpError(404, 'Not Found');
      return [200, pr];
    }
    if ((m = /^\/compare\/(.+)$/.exec(rest)) && method === 'GET') {
      const basehead = m[1]!;
      if (!state.compare.has(basehead)) throw new HttpError(404, 'Not Found');
      const sha = state.compare.get(basehead);
      const [base, head] = basehead.split('...');
      return [
        200,
        {
          status: 'ahead',
          ahead_by: 1,
          behind_by: 0,
          total_commits: 1,
          base_commit: { sha: `${base}-tip` },
          ...(sha !== null && { merge_base_commit: { sha } }),
          commits: [{ sha: `${head}-tip` }].slice(0, Number(query.per_page ?? 250)),
          files: [],
        },
      ];
    }
    throw new HttpError(404, 'Not Found');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://127.0.0.1');
    // Each segment decoded on its own, as GitHub routes an encoded "/" in a ref.
    const path = target.pathname.split('/').map(decodeURIComponent).join('/');
    const query = Object.fromEntries(target.searchParams);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      query,
      body: text ? (JSON.parse(text) as unknown) : undefined,
      authorization: req.headers.authorization !== undefined,
      status: 0,
    };
    requests.push(record);

    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(json === undefined ? '' : JSON.stringify(json));
    };
    const docs = 'https://docs.github.com/rest';
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${seed.token}` && auth !== `bearer ${seed.token}` && auth !== `Bearer ${seed.token}`)
      return send(401, { message: 'Bad credentials', documentation_url: docs, status: '401' });
    if (rateLimited > 0) {
      rateLimited--;
      return send(
        403,
        { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: docs, status: '403' },
        { 'retry-after': rateLimitRetryAfter },
      );
    }
    // GET /user answers a user's token; an App's or github.token is refused, as GitHub does.
    if (record.method === 'GET' && path === '/user') {
      if (viewer.type === 'Bot') return send(403, { message: 'Resource not accessible by integration', documentation_url: docs, status: '403' });
      return send(200, { login: viewer.login, type: 'User' });
    }
    try {
      const body = (record.body ?? {}) as Record<string, unknown>;
      const raw = /application\/vnd\.github(\.v3)?\.raw/.test(req.headers.accept ?? '');
      const [status, json] = route(record.method, path, target.pathname, query, body, res, raw);
      if (json instanceof RawBody) {
        record.status = status;
        res.writeHead(status, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
        return void res.end(json.text);
      }
      send(status, json);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      send(error.status, { message: error.message, documentation_url: docs, status: String(error.status), ...error.extra });
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `fake GitHub failed: ${String(error)}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    state,
    injectSecondaryRateLimit(times = 1, retryAfter = '0') {
      rateLimited = times;
      rateLimitRetryAfter = retryAfter;
    },
    raceNextWrite(branch, path, rewrite) {
      races.push({ branch, path, rewrite });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
