import { describe, expect, it } from 'vitest';
import { gitTimeoutFromEnv } from '../../worker/activities.js';

describe('worker settings from the environment', () => {
  it('SLIPWAY_GIT_TIMEOUT_MS sets the deadline of each git command; unset leaves the default', () => {
    expect(gitTimeoutFromEnv({})).toBeUndefined();
    expect(gitTimeoutFromEnv({ SLIPWAY_GIT_TIMEOUT_MS: '15000' })).toBe(15_000);
  });
  it('a deadline that is not a whole number of milliseconds, or under a second, stops the worker naming the variable', () => {
    for (const bad of ['15s', '-1', '0', '999', '1.5e3x']) {
      expect(() => gitTimeoutFromEnv({ SLIPWAY_GIT_TIMEOUT_MS: bad })).toThrow(/SLIPWAY_GIT_TIMEOUT_MS=/);
    }
  });
});
