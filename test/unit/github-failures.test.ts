/** How GitHub errors become failures, and how the run wait ends: no server needed. */
import { RequestError } from '@octokit/request-error';
import { describe, expect, it } from 'vitest';
import { toGithubFailure } from '../../activities/github/failures.js';
import { waitForRun, type RunSnapshot } from '../../activities/github/run-wait.js';
import { FailureType } from '../../activities/types.js';

const TOKEN = 'ghp_secretValue123456';

function requestError(status: number, message: string): RequestError {
  return new RequestError(`HttpError ${message}`, status, {
    request: { method: 'POST', url: 'https://api.github.com/repos/o/r/git/refs', headers: { authorization: `token ${TOKEN}` } },
    response: { status, url: 'https://api.github.com/repos/o/r/git/refs', headers: {}, data: { message } },
  });
}

describe('toGithubFailure', () => {
  it.each([401, 403, 422])('makes %i non-retryable with the status and GitHub’s message, token scrubbed', (status) => {
    const failure = toGithubFailure(requestError(status, `Bad credentials for ${TOKEN}`), 'create tag v1', TOKEN);
    expect(failure.type).toBe(FailureType.GitHubRequestFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(String(status));
    expect(failure.message).toContain('Bad credentials');
    expect(failure.message).not.toContain(TOKEN);
  });

  it('leaves server errors retryable', () => {
    const failure = toGithubFailure(requestError(502, 'Bad gateway'), 'list runs', TOKEN);
    expect(failure.nonRetryable).toBe(false);
  });
});

describe('waitForRun', () => {
  const run = (status: string, conclusion: string | null = null): RunSnapshot => ({ id: 7, status, conclusion, html_url: 'https://gh/run/7' });

  it('polls until completed, heartbeating each time', async () => {
    const answers = [run('queued'), run('in_progress'), run('completed', 'failure')];
    const beats: unknown[] = [];
    const result = await waitForRun(async () => answers.shift()!, {
      deadline: Date.now() + 10_000,
      pollIntervalMs: 1,
      heartbeat: (d) => beats.push(d),
      pause: async () => {},
    });
    expect(result).toEqual({ finished: true, run: run('completed', 'failure') });
    expect(beats).toHaveLength(3);
  });

  it('stops at the deadline with the last snapshot', async () => {
    let clock = 0;
    const result = await waitForRun(async () => run('in_progress'), {
      deadline: 100,
      pollIntervalMs: 30,
      heartbeat: () => {},
      pause: async (ms) => {
        clock += ms;
      },
      now: () => clock,
    });
    expect(result.finished).toBe(false);
    expect(clock).toBe(100);
  });
});
