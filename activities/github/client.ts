/**
 * One Octokit per call, authenticated with the token from the env var the config names. The token
 * is read when the activity runs (never from inputs); a missing variable is reported by NAME only.
 */
import { Octokit } from '@octokit/rest';
import type { GithubRepoRef } from '../types.js';
import { githubFailure } from './failures.js';

export interface GithubClientOptions {
  /** The API root; GITHUB_API_URL by default (so tests can point at a mock), else api.github.com. */
  baseUrl?: string;
  /** Deadline of each request that does not bring its own signal; default 15 s. */
  requestTimeoutMs?: number;
}

/** Every request has a deadline: its own signal's, and in any case this one. */
export function boundedFetch(timeoutMs: number): typeof fetch {
  return (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    return fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
  };
}

export interface RepoClient {
  octokit: Octokit;
  owner: string;
  repo: string;
  /** For scrubbing messages. */
  token: string;
}

export function repoClient(source: GithubRepoRef, options: GithubClientOptions): RepoClient {
  const [owner, repo] = source.repo.split('/');
  if (!owner || !repo) throw githubFailure(`expected a repository as owner/name, got "${source.repo}"`);
  const token = process.env[source.tokenFromEnv];
  if (!token) {
    throw githubFailure(`the environment variable ${source.tokenFromEnv} (GitHub token for ${source.repo}) is not set`);
  }
  const octokit = new Octokit({
    auth: token,
    baseUrl: options.baseUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com',
    userAgent: 'slipway',
    // Octokit's default logger prints request errors with their URLs; Slipway reports them itself.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    request: { retries: 0, fetch: boundedFetch(options.requestTimeoutMs ?? 15_000) },
  });
  return { octokit, owner, repo, token };
}
