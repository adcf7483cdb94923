/**
 * What a preview write or removal checks in its input before it runs any git command: folders
 * inside the repository, written without `..` (even a `..` that stays inside: the folder a
 * preview names is the folder it touches, with nothing to resolve), never the repository itself
 * or its `.git`; a preview folder apart from its template; a namespace Kubernetes takes; a pull
 * request number and head commit that can be trailers; branch names git takes as they are.
 */
import { dnsLabelProblem } from '../../core/preview-name.js';
import { isWithin } from '../../core/repo-path.js';
import type { PreviewPullRequest, RemovePreviewOverlayInput, WritePreviewOverlayInput } from '../types.js';
import { InvalidGitopsInputError } from './failures.js';

/** A folder inside the repository as the preview activities use it: `a/b/c`, no `.`, `..`, empty or `.git` segment. */
export function previewFolder(value: unknown, what: string): string {
  const refuse = (why: string) => new InvalidGitopsInputError(`the ${what} ${JSON.stringify(value)} ${why}`);
  if (typeof value !== 'string' || value.trim() === '') throw refuse('must be a folder inside the GitOps repository');
  if (/[\u0000-\u001f\u007f\\]/.test(value)) throw refuse('holds a control character or a backslash');
  if (value.startsWith('/')) throw refuse('must be relative to the GitOps repository, not absolute');
  const segments = value.replace(/\/+$/, '').split('/');
  if (segments.includes('..')) throw refuse('must be a folder inside the GitOps repository, written without ".."');
  if (segments.some((s) => s === '' || s === '.')) throw refuse('has an empty or "." segment');
  if (segments.some((s) => s.toLowerCase() === '.git')) throw refuse("reaches into the repository's .git folder");
  return segments.join('/');
}

/** A branch name git takes as it is (git check-ref-format's rules, read conservatively). */
export function checkBranchName(value: unknown, what: string): string {
  const ok =
    typeof value === 'string' &&
    /^[A-Za-z0-9._/-]+$/.test(value) &&
    !value.startsWith('-') &&
    !value.startsWith('/') &&
    !value.endsWith('/') &&
    !value.endsWith('.') &&
    !value.includes('..') &&
    !value.includes('//') &&
    value.split('/').every((part) => !part.startsWith('.') && !part.endsWith('.lock'));
  if (!ok) throw new InvalidGitopsInputError(`${what} ${JSON.stringify(value)} is not a branch name Slipway writes to ([A-Za-z0-9._/-], no "..", no segment starting with "." or ending in ".lock")`);
  return value as string;
}

export function checkPullRequest(context: PreviewPullRequest): void {
  if (typeof context?.app !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(context.app)) {
    throw new InvalidGitopsInputError(`the preview's app ${JSON.stringify(context?.app)} is not an app name (letters, digits, ".", "_", "-")`);
  }
  if (!Number.isSafeInteger(context.number) || context.number <= 0) {
    throw new InvalidGitopsInputError(`a pull request number must be a positive whole number, got ${JSON.stringify(context.number)}`);
  }
}

export interface CheckedPreviewWrite {
  template: string;
  path: string;
}

export function checkPreviewWrite(input: WritePreviewOverlayInput): CheckedPreviewWrite {
  checkBranchName(input.git?.branch, 'the previews branch');
  if (input.baseBranch !== undefined) checkBranchName(input.baseBranch, 'the base branch');
  const template = previewFolder(input.template, 'preview template folder');
  const path = previewFolder(input.path, 'preview folder');
  const t = template.split('/');
  const p = path.split('/');
  if (isWithin(p, t) || isWithin(t, p)) {
    throw new InvalidGitopsInputError(`the preview folder ${path} and the template folder ${template} must be apart (neither inside the other)`);
  }
  const namespaceProblem = dnsLabelProblem(typeof input.namespace === 'string' ? input.namespace : '');
  if (namespaceProblem) throw new InvalidGitopsInputError(`the preview namespace ${JSON.stringify(input.namespace)} ${namespaceProblem}`);
  checkPullRequest(input.context);
  if (typeof input.context.headSha !== 'string' || !/^[0-9a-f]{7,64}$/i.test(input.context.headSha)) {
    throw new InvalidGitopsInputError(`the pull request's head commit ${JSON.stringify(input.context.headSha)} is not a commit id (7 to 64 hex digits)`);
  }
  if (!Array.isArray(input.images) || input.images.some((i) => typeof i?.name !== 'string' || i.name === '')) {
    throw new InvalidGitopsInputError('the preview images must be a list of image settings, each with a name');
  }
  return { template, path };
}

export function checkPreviewRemoval(input: RemovePreviewOverlayInput): string {
  checkBranchName(input.git?.branch, 'the previews branch');
  checkPullRequest(input.context);
  return previewFolder(input.path, 'preview folder');
}
