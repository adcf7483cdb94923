/**
 * Which of an Application's revisions is the GitOps repository's. A single-source Application
 * (`spec.source`) has one `revision` wherever Argo CD reports one; a multi-source one
 * (`spec.sources`) has lists in the order of `spec.sources` (`sync.revisions`,
 * `syncResult.revisions`, `operation.sync.revisions`), and ours is at the position of the source
 * whose repoURL is the GitOps repository. Pure.
 */
import { resolve } from 'node:path';
import type { ArgoApplication } from './application.js';

/** Where our revision is: the one `revision`, or position `index` of the `revisions` lists. */
export type SourceSlot = { multi: false } | { multi: true; index: number };

export type SlotLookup = { ok: true; slot: SourceSlot } | { ok: false; problem: string };

/**
 * The slot of the GitOps repository `gitUrl`. Several sources from that repository (one that only
 * lends values files, one that renders the overlay): the one rendering `overlay`, else the first
 * with a path.
 */
export function gitopsSlot(spec: ArgoApplication['spec'], gitUrl: string | undefined, overlay?: string): SlotLookup {
  const sources = spec.sources ?? [];
  if (sources.length === 0) return { ok: true, slot: { multi: false } };
  if (gitUrl === undefined) {
    return sources.length === 1 ? { ok: true, slot: { multi: true, index: 0 } } : { ok: false, problem: 'it has several spec.sources and the GitOps repository was not named' };
  }
  const wanted = normalizeRepoURL(gitUrl);
  const matching = sources.map((source, index) => ({ source, index })).filter(({ source }) => normalizeRepoURL(source.repoURL) === wanted);
  const chosen =
    matching.find(({ source }) => overlay !== undefined && samePath(source.path, overlay)) ?? matching.find(({ source }) => source.path !== undefined) ?? matching[0];
  if (!chosen) {
    return { ok: false, problem: `none of its spec.sources is the GitOps repository ${withoutUserinfo(gitUrl)} (they are ${sources.map((s) => withoutUserinfo(s.repoURL)).join(', ')})` };
  }
  return { ok: true, slot: { multi: true, index: chosen.index } };
}

/** The revision in our slot of something that has `revision`/`revisions` (sync status, a sync result, an operation's sync). */
export function revisionIn(holder: { revision?: string; revisions?: string[] } | undefined, slot: SourceSlot): string | undefined {
  const revision = slot.multi ? holder?.revisions?.[slot.index] : holder?.revision;
  return revision || undefined;
}

/** The `sync` of an operation that asks for `revision` in our slot; other sources keep their targetRevision (an empty entry). */
export function syncRequest(spec: ArgoApplication['spec'], slot: SourceSlot, revision: string | undefined): { revision?: string; revisions?: string[] } {
  if (revision === undefined) return {};
  if (!slot.multi) return { revision };
  return { revisions: (spec.sources ?? []).map((_, i) => (i === slot.index ? revision : '')) };
}

/**
 * One spelling per repository, for comparing a GitTarget's url with a source's repoURL as Argo CD
 * compares repository URLs: case, surrounding blanks, a trailing `/` or `.git`, and scp-like ssh
 * (`git@host:org/repo`) versus `ssh://git@host/org/repo` do not matter; a local path and its
 * `file://` URL are the same repository.
 */
export function normalizeRepoURL(url: string): string {
  let u = url.trim();
  if (/^file:\/\//i.test(u)) u = u.slice('file://'.length);
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(u);
  const scp = !hasScheme && /^[^/\\]*:/.test(u);
  if (scp) u = `ssh://${u.replace(':', '/')}`;
  else if (!hasScheme) u = resolve(u);
  u = u.toLowerCase().replace(/\/+$/, '').replace(/\.git$/, '').replace(/\/+$/, '');
  return u.replace(/^ssh:\/\//, '');
}

function samePath(a: string | undefined, b: string): boolean {
  const clean = (p: string) => p.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return a !== undefined && clean(a) === clean(b);
}

function withoutUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}
