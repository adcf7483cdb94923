import { describe, expect, it } from 'vitest';
import { deploymentOptions, takeOverDecision, workerVersioningFromEnv } from '../../worker/versioning.js';

describe('the worker version from the environment', () => {
  it('is unversioned without SLIPWAY_WORKER_BUILD_ID', () => {
    expect(workerVersioningFromEnv({})).toBeUndefined();
  });

  it('defaults to the slipway deployment, taking over on start', () => {
    expect(workerVersioningFromEnv({ SLIPWAY_WORKER_BUILD_ID: '0.2.0-3104a77' })).toEqual({ deploymentName: 'slipway', buildId: '0.2.0-3104a77', takeOver: 'on-start' });
  });

  it('refuses a deployment or take-over setting without a build id, so a half-set version is not silently unversioned', () => {
    expect(() => workerVersioningFromEnv({ SLIPWAY_WORKER_DEPLOYMENT: 'slipway' })).toThrow(/need SLIPWAY_WORKER_BUILD_ID/);
    expect(() => workerVersioningFromEnv({ SLIPWAY_WORKER_TAKE_OVER: 'manual' })).toThrow(/need SLIPWAY_WORKER_BUILD_ID/);
  });

  it('refuses build ids and deployment names with other characters, and unknown take-over modes, naming the variable', () => {
    expect(() => workerVersioningFromEnv({ SLIPWAY_WORKER_BUILD_ID: 'v1 beta' })).toThrow(/SLIPWAY_WORKER_BUILD_ID .*"v1 beta"/);
    expect(() => workerVersioningFromEnv({ SLIPWAY_WORKER_BUILD_ID: 'x'.repeat(129) })).toThrow(/SLIPWAY_WORKER_BUILD_ID/);
    expect(() => workerVersioningFromEnv({ SLIPWAY_WORKER_BUILD_ID: 'v1', SLIPWAY_WORKER_DEPLOYMENT: 'a/b' })).toThrow(/SLIPWAY_WORKER_DEPLOYMENT .*"a\/b"/);
    expect(() => workerVersioningFromEnv({ SLIPWAY_WORKER_BUILD_ID: 'v1', SLIPWAY_WORKER_TAKE_OVER: 'always' })).toThrow(/SLIPWAY_WORKER_TAKE_OVER .*"always"/);
  });

  it('makes workflows auto-upgrade: running ones move to the current version', () => {
    expect(deploymentOptions({ deploymentName: 'slipway', buildId: 'b2', takeOver: 'manual' })).toEqual({
      version: { deploymentName: 'slipway', buildId: 'b2' },
      useWorkerVersioning: true,
      defaultVersioningBehavior: 'AUTO_UPGRADE',
    });
  });
});

describe('when a worker makes its version current', () => {
  const onStart = { deploymentName: 'slipway', buildId: 'b2', takeOver: 'on-start' as const };
  const manual = { ...onStart, takeOver: 'manual' as const };

  it('does nothing when it already is', () => {
    expect(takeOverDecision(onStart, 'b2')).toBe('nothing');
    expect(takeOverDecision(manual, 'b2')).toBe('nothing');
  });

  it('always takes a deployment that has no current version, so a first install is not left unrouted', () => {
    expect(takeOverDecision(onStart, undefined)).toBe('make-current');
    expect(takeOverDecision(manual, undefined)).toBe('make-current');
  });

  it('replaces another current version on start, and leaves it to the operator in manual mode', () => {
    expect(takeOverDecision(onStart, 'b1')).toBe('make-current');
    expect(takeOverDecision(manual, 'b1')).toBe('leave');
  });
});
