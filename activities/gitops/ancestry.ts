/**
 * Questions about the branch history, for the Argo CD activity: Argo may report a later branch
 * head than the commit we wrote, which is fine when that head contains our commit.
 *
 * Every waiting promotion asks this for each revision Argo CD reports, so the answer comes from
 * one bare mirror per remote kept across calls: fetched incrementally, and not at all when both
 * commits are already in it. A fetch that fails is retried a few times and then thrown as the
 * failure it is: "cannot tell" must not read as "not ours" (that would end in a spurious health
 * deadline and a rollback).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../activity-context.js';
import type { GitTarget } from '../types.js';
import { classifyGitFailure } from './classify.js';
import { toApplicationFailure } from './failures.js';
import { GitCommandError, git, runGit, type GitOptions } from './git.js';
import { KeyedLock } from './keyed-lock.js';
import { remoteFor, type Remote } from './remote.js';

export type IsAncestorFn = (target: GitTarget, ancestor: string, descendant: string, env?: NodeJS.ProcessEnv) => Promise<boolean>;

export interface AncestryOptions {
  /** Where the mirrors live (one bare repository per remote URL); the worker owns it. */
  cacheDir?: string;
  /** Fetch attempts before a failure is thrown (network errors, a lock held by another process). */
  attempts?: number;
  /** Pause before the n-th retry: n × this. */
  retryDelayMs?: number;
}

/** The mirrors' default home: shared by the calls of one worker, and by workers on one machine. */
export const DEFAULT_ANCESTRY_CACHE = join(tmpdir(), 'slipway-ancestry-mirrors');

// A server that refuses to hand out an object by id that is not on an advertised ref (GitHub,
// plain git daemons, local upload-pack): the commit is simply not in the remote's branches.
const NOT_ADVERTISED = /not our ref|couldn't find remote ref|no such remote ref|unadvertised object|does not point to a valid object/i;

export function createAncestryChecker(options: AncestryOptions = {}): IsAncestorFn {
  const cacheDir = options.cacheDir ?? DEFAULT_ANCESTRY_CACHE;
  const attempts = Math.max(1, options.attempts ?? 3);
  const retryDelayMs = options.retryDelayMs ?? 250;
  // One holder per mirror at a time: two fetches into one repository would fight over its ref locks.
  const locks = new KeyedLock();

  const fetchWithRetry = async (args: string[], opts: GitOptions, mirror: string): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const result = await runGit(args, opts);
      if (result.code === 0) return;
      const error = new GitCommandError('fetch', result.code, `${result.stderr}\n${result.stdout}`.trim());
      const kind = classifyGitFailure(error.output);
      // Credentials, a missing branch or repository, a refused object id: retrying cannot change the answer.
      const lasting = kind === 'permission' || kind === 'no-branch' || kind === 'no-repository' || NOT_ADVERTISED.test(error.output);
      if (lasting || attempt >= attempts) {
        // A mirror left damaged (a stale lock after a killed fetch, a broken object) would fail
        // every later call the same way; the next call starts it afresh instead.
        if (/\.lock|corrupt|bad object|not a git repository|unable to read/i.test(error.output)) await rm(mirror, { recursive: true, force: true });
        throw error;
      }
      await sleep(retryDelayMs * attempt);
    }
  };

  return async function isAncestor(target, ancestor, descendant, env = process.env) {
    if (ancestor === descendant) return true;
    let remote: Remote | undefined;
    try {
      remote = remoteFor(target, env);
      const r = remote;
      const mirror = mirrorPath(cacheDir, r.url);
      return await locks.run(mirror, async () => {
        await mkdir(cacheDir, { recursive: true });
        const opts: GitOptions = { cwd: cacheDir, env: r.env, redact: r.redact };
        const inMirror: GitOptions = { ...opts, cwd: mirror };
        if (!existsSync(join(mirror, 'HEAD'))) await git(['init', '--quiet', '--bare', mirror], opts);
        // No --filter: a plain mirror never lazily fetches inside merge-base, and after the first
        // fetch only new commits travel, so leaving blobs out would save little.
        const fetch = (refspec: string) => fetchWithRetry(['fetch', '--quiet', '--no-tags', r.url, refspec], inMirror, mirror);
        if (!(await hasCommit(ancestor, inMirror)) || !(await hasCommit(descendant, inMirror))) {
          await fetch(`+refs/heads/${target.branch}:refs/heads/${target.branch}`);
          for (const sha of [ancestor, descendant]) {
            if (await hasCommit(sha, inMirror)) continue;
            if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(sha)) return false;
            // Not on the branch: ask for it by id. A server refusing an unadvertised object is an
            // answer (it is not in the remote's history); anything else is a failure to report.
            try {
              await fetch(sha);
            } catch (err) {
              if (err instanceof GitCommandError && NOT_ADVERTISED.test(err.output)) return false;
              throw err;
            }
            if (!(await hasCommit(sha, inMirror))) return false;
          }
        }
        const result = await runGit(['merge-base', '--is-ancestor', ancestor, descendant], inMirror);
        if (result.code === 0) return true;
        if (result.code === 1) return false;
        throw new Error(`git merge-base failed (exit ${result.code}): ${result.stderr.trim()}`);
      });
    } catch (err) {
      throw toApplicationFailure(err, `compare ${ancestor} and ${descendant} on ${target.branch} of ${target.url}`, remote?.redact ?? ((t) => t));
    }
  };
}

/**
 * The bare mirror of a remote in `cacheDir`: keyed by the URL git is given (local paths made
 * absolute), hashed so no credential in a URL reaches the disk. The overlay reader
 * (read-at-revision.ts) shares it.
 */
export function mirrorPath(cacheDir: string, remoteUrl: string): string {
  return join(cacheDir, `${createHash('sha256').update(remoteUrl).digest('hex').slice(0, 24)}.git`);
}

/** True when `ancestor` is `descendant` or one of its ancestors, per the remote's history. */
export const isAncestor: IsAncestorFn = createAncestryChecker();

/** The remote branch's head commit, or undefined when the branch does not exist. */
export async function remoteBranchHead(target: GitTarget, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  let remote: Remote | undefined;
  try {
    remote = remoteFor(target, env);
    const out = await git(['ls-remote', '--heads', remote.url, `refs/heads/${target.branch}`], { cwd: tmpdir(), env: remote.env, redact: remote.redact });
    return out.split('\t')[0]?.trim() || undefined;
  } catch (err) {
    throw toApplicationFailure(err, `read the head of ${target.branch} of ${target.url}`, remote?.redact ?? ((t) => t));
  }
}

async function hasCommit(sha: string, opts: GitOptions): Promise<boolean> {
  if (!/^[0-9a-f]{4,64}$/i.test(sha)) return false;
  return (await runGit(['cat-file', '-e', `${sha}^{commit}`], opts)).code === 0;
}
