// What started this run of the gate, read from the event payload: a pull request (its
// number, base, head and whether the head comes from a fork) or a ref of this repository
// itself (push, schedule, a dispatch). Fork-ness fails closed: a deleted head repository,
// a missing id, an event whose payload cannot say (merge_group) or an event the gate does
// not know all count as a fork (gate-security.md §3, §8.6).
import type { Octokit } from 'octokit';

export interface PullRequestRef {
  readonly number: number;
  readonly baseRef: string;
  readonly baseSha: string;
  readonly headSha: string;
}

export type GateEvent =
  | { readonly kind: 'pull-request'; readonly pr: PullRequestRef; readonly fork: boolean; readonly why: string }
  /** A ref of this repository: the workflow and the checkout are the repository's own. */
  | { readonly kind: 'own-ref'; readonly why: string }
  | { readonly kind: 'unsupported'; readonly why: string };

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Whether a head repository is this repository: by id when both have one, else by full name; unknown → not. */
export function sameRepository(head: unknown, repository: unknown): { same: boolean; why: string } {
  const [h, r] = [obj(head), obj(repository)];
  if (!h) return { same: false, why: 'the head repository is gone (a deleted fork) or not in the payload' };
  if (!r) return { same: false, why: 'the payload does not name this repository' };
  if (typeof h.id === 'number' && typeof r.id === 'number')
    return h.id === r.id ? { same: true, why: 'same repository id' } : { same: false, why: `head repository ${str(h.full_name) ?? h.id} is a fork` };
  const [hn, rn] = [str(h.full_name)?.toLowerCase(), str(r.full_name)?.toLowerCase()];
  if (!hn || !rn) return { same: false, why: 'the payload names neither repository id nor full name' };
  return hn === rn ? { same: true, why: 'same repository name' } : { same: false, why: `head repository ${h.full_name} is a fork` };
}

function fromPullRequest(pr: Json | undefined, repository: unknown): GateEvent {
  const number = pr?.number;
  const [base, head] = [obj(pr?.base), obj(pr?.head)];
  const baseSha = str(base?.sha);
  const headSha = str(head?.sha);
  const baseRef = str(base?.ref);
  if (typeof number !== 'number' || !baseSha || !headSha || !baseRef) return { kind: 'unsupported', why: 'the pull request in the payload lacks its number, base or head' };
  // The base repository is the one the workflow runs in; compare the head with it.
  const { same, why } = sameRepository(head?.repo, base?.repo ?? repository);
  return { kind: 'pull-request', pr: { number, baseRef, baseSha, headSha }, fork: !same, why };
}

/**
 * The event, from its name and payload. issue_comment carries no head or base: the pull
 * request is fetched (when there is a token) and judged like any other; workflow_run is
 * judged by its head repository and its first pull request (empty for forks: a fork).
 */
export async function gateEvent(eventName: string, payload: Json, octokit: Octokit | null, repo: { owner: string; repo: string }): Promise<GateEvent> {
  switch (eventName) {
    case 'pull_request':
    case 'pull_request_target':
      return fromPullRequest(obj(payload.pull_request), payload.repository);
    case 'issue_comment': {
      const issue = obj(payload.issue);
      if (!obj(issue?.pull_request)) return { kind: 'unsupported', why: 'a comment on an issue, not on a pull request' };
      if (!octokit || typeof issue?.number !== 'number') return { kind: 'unsupported', why: 'a pull request comment, and no token to look the pull request up' };
      const { data } = await octokit.rest.pulls.get({ ...repo, pull_number: issue.number });
      return fromPullRequest(data as unknown as Json, payload.repository);
    }
    case 'workflow_run': {
      const run = obj(payload.workflow_run);
      const { same, why } = sameRepository(run?.head_repository, payload.repository);
      const pr = obj((run?.pull_requests as unknown[] | undefined)?.[0]);
      if (!same || !pr) return { kind: 'unsupported', why: same ? 'a workflow_run without a pull request' : `workflow_run from a fork: ${why}` };
      return fromPullRequest({ ...pr, head: { ...obj(pr.head), repo: run?.head_repository }, base: { ...obj(pr.base), repo: payload.repository } }, payload.repository);
    }
    case 'merge_group':
      return { kind: 'unsupported', why: "merge_group's payload cannot say whether a queued pull request comes from a fork" };
    case 'push':
    case 'schedule':
    case 'workflow_dispatch':
      return { kind: 'own-ref', why: `${eventName} runs this repository's own workflow and checkout` };
    default:
      return { kind: 'unsupported', why: `the gate does not know the event ${eventName || '(none)'}` };
  }
}
