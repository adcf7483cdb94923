/**
 * Tier: unit (no servers). The pure parts of pull-request mode's wait: how the look at a pull
 * request nobody told us about backs off, which queued request supersedes the one in flight, and
 * the rollback pull request's text.
 */
import { describe, expect, it } from 'vitest';
import { pullRequestText } from '../../activities/github/pull-request.js';
import type { PromotionRequest } from '../../activities/types.js';
import { MAX_POLL_MS, nextPollInterval, pullRequestChange, supersedesInFlight } from '../../workflows/pull-request-merge.js';

describe('the poll for a lost delivery', () => {
  it('doubles after each look nobody asked for, up to 15 minutes', () => {
    const seen: number[] = [];
    let interval = 60_000;
    for (let i = 0; i < 8; i++) seen.push((interval = nextPollInterval(interval, 60_000)));
    expect(seen).toEqual([120_000, 240_000, 480_000, 900_000, 900_000, 900_000, 900_000, 900_000]);
  });

  it('a first interval above the cap stays as configured', () => {
    expect(nextPollInterval(MAX_POLL_MS * 2, MAX_POLL_MS * 2)).toBe(MAX_POLL_MS * 2);
  });
});

describe('which queued request supersedes the promotion waiting on its pull request', () => {
  const request = (over: Partial<PromotionRequest>) => ({ kind: 'promote', releaseStartedAt: 1_000, ...over }) as PromotionRequest;

  it('a release started later does; an older one waits behind, as in push mode', () => {
    expect(supersedesInFlight(request({ releaseStartedAt: 2_000 }), request({ releaseStartedAt: 1_000 }))).toBe(true);
    expect(supersedesInFlight(request({ releaseStartedAt: 500 }), request({ releaseStartedAt: 1_000 }))).toBe(false);
    expect(supersedesInFlight(request({ releaseStartedAt: 1_000 }), request({ releaseStartedAt: 1_000 }))).toBe(false);
  });

  it('an explicit rollback or override always does; an unknown start goes by arrival', () => {
    expect(supersedesInFlight(request({ kind: 'rollback', releaseStartedAt: 1 }), request({}))).toBe(true);
    expect(supersedesInFlight(request({ override: { reason: 'hotfix' } as never, releaseStartedAt: 1 }), request({}))).toBe(true);
    expect(supersedesInFlight(request({ releaseStartedAt: undefined }), request({}))).toBe(true);
  });
});

describe("a rollback pull request's text", () => {
  it('says it undoes the failed build and writes back the images held before', () => {
    const change = pullRequestChange(
      { app: 'todoapp', environment: 'production', releaseId: 'release/todoapp/abc', overlay: '1.2/overlays/production' },
      { commit: '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567', version: '1.4.0' },
      'rollback',
      [{ name: 'todoapp/frontend', newTag: 'good-1' }],
      true,
    );
    const text = pullRequestText(change, undefined);
    expect(text.title).toBe('roll back todoapp in production: undo 3f2a9c1 (1.4.0)');
    expect(text.body).toContain('build `3f2a9c1d4e5f60718293a4b5c6d7e8f901234567` (1.4.0) failed there');
    expect(text.body).toContain('| `todoapp/frontend` | `todoapp/frontend:good-1` |');
  });
});
