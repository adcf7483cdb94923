/**
 * What a GitHub `pull_request` or `merge_group` delivery asks of Slipway, decided from the
 * worker's policy summary. Pure: tested without a server.
 *
 * A pull request on the GitOps repository from one of Slipway's branches
 * (`slipway/<release>/<environment>`, see pullRequestBranch) wakes the promotions of that
 * environment that wait on a pull request, for every app that has the environment in
 * pull-request mode on this repository. A merge queue's delivery names no pull request of ours
 * (its branch is the queue's), so it wakes every such promotion of the repository. A wake-up is all
 * a delivery does: each promotion then asks GitHub what became of its own pull request, so a forged
 * or misdirected delivery costs one look, never a decision.
 *
 * A pull request on an app's source repository, for an app with previews, is that app's preview
 * event (opened, reopened, synchronize, closed), handed to the app's previews workflow. A fork's
 * pull request gets no preview: its code would run with what the cluster lets previews do.
 */
import type { PolicySummary } from '../../activities/types.js';
import { PayloadError } from './tag-push.js';

export const PULL_REQUEST_EVENTS = ['pull_request', 'merge_group'];

export interface WakeTarget {
  app: string;
  environment: string;
}

export type PreviewAction = 'opened' | 'reopened' | 'synchronize' | 'closed';

export type PullRequestDecision =
  | { action: 'wake'; repo: string; number?: number; targets: WakeTarget[] }
  | { action: 'preview'; repo: string; number: number; event: PreviewAction; apps: string[] }
  | { action: 'ignore'; reason: string };

const PREVIEW_ACTIONS: string[] = ['opened', 'reopened', 'synchronize', 'closed'];

const BRANCH = /^slipway\/[A-Za-z0-9._-]+\/([A-Za-z0-9._-]+?)(\.rollback)?$/;

export function decidePullRequestEvent(event: string, payload: unknown, policy: Pick<PolicySummary, 'apps'>): PullRequestDecision {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new PayloadError('expected a JSON object');
  const body = payload as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const repo = body.repository?.full_name;
  if (typeof repo !== 'string' || !repo.includes('/')) throw new PayloadError('repository.full_name is missing');
  const onRepo = pullRequestEnvironments(policy, repo);
  const previewing = event === 'pull_request' ? previewApps(policy, repo) : [];
  if (onRepo.length === 0 && previewing.length === 0) return { action: 'ignore', reason: `no environment is in pull-request mode on ${repo}, and no app previews its pull requests` };

  if (event === 'merge_group') return { action: 'wake', repo, targets: onRepo };

  const pr = body.pull_request;
  if (typeof pr !== 'object' || pr === null) throw new PayloadError('pull_request is missing');
  if (!Number.isInteger(pr.number) || pr.number < 1) throw new PayloadError('pull_request.number is not a pull request number');
  const head = pr.head?.ref;
  if (typeof head !== 'string') throw new PayloadError('pull_request.head.ref is missing');
  const fromRepo = pr.head?.repo?.full_name;
  if (typeof fromRepo === 'string' && fromRepo.toLowerCase() !== repo.toLowerCase()) return { action: 'ignore', reason: `#${pr.number} comes from a fork (${fromRepo})` };
  if (previewing.length > 0 && !BRANCH.test(head)) {
    const action = body.action;
    if (typeof action !== 'string' || !PREVIEW_ACTIONS.includes(action)) return { action: 'ignore', reason: `a pull request ${String(action)} changes no preview` };
    return { action: 'preview', repo, number: pr.number, event: action as PreviewAction, apps: previewing };
  }
  const match = BRANCH.exec(head);
  if (!match) return { action: 'ignore', reason: `#${pr.number} is not from a Slipway branch (${head.slice(0, 100)})` };
  const targets = onRepo.filter((t) => t.environment === match[1]);
  if (targets.length === 0) return { action: 'ignore', reason: `no environment ${match[1]} is in pull-request mode on ${repo}` };
  return { action: 'wake', repo, number: pr.number, targets };
}

/** The (app, environment) pairs in pull-request mode whose pull requests go to `repo`. */
function pullRequestEnvironments(policy: Pick<PolicySummary, 'apps'>, repo: string): WakeTarget[] {
  const wanted = repo.toLowerCase();
  return Object.entries(policy.apps).flatMap(([app, summary]) =>
    summary.environments.filter((e) => e.pullRequests?.repo.toLowerCase() === wanted).map((e) => ({ app, environment: e.name })),
  );
}

/** The apps that preview the pull requests of `repo` (their source repository). */
function previewApps(policy: Pick<PolicySummary, 'apps'>, repo: string): string[] {
  const wanted = repo.toLowerCase();
  return Object.entries(policy.apps)
    .filter(([, summary]) => summary.previews && summary.source?.toLowerCase() === wanted)
    .map(([app]) => app);
}
