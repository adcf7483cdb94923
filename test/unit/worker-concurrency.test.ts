/**
 * The worker's concurrency limits from its environment: what bounds its memory under the
 * manifest's limit, so a missing value means the default and a malformed one stops the start.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_CONCURRENT_ACTIVITIES,
  DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS,
  workerConcurrencyFromEnv,
} from '../../worker/create-worker.js';

describe('workerConcurrencyFromEnv', () => {
  it('bounds activities and workflow tasks by default, below the SDK’s own 100 and 40', () => {
    expect(workerConcurrencyFromEnv({})).toEqual({
      maxConcurrentActivityTaskExecutions: DEFAULT_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTaskExecutions: DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS,
    });
    expect(DEFAULT_MAX_CONCURRENT_ACTIVITIES).toBeLessThan(100);
    expect(DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS).toBeLessThan(40);
    expect(workerConcurrencyFromEnv({ SLIPWAY_MAX_CONCURRENT_ACTIVITIES: '', SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS: '' })).toEqual(workerConcurrencyFromEnv({}));
  });

  it('takes each limit from its own variable', () => {
    expect(workerConcurrencyFromEnv({ SLIPWAY_MAX_CONCURRENT_ACTIVITIES: '8' })).toEqual({
      maxConcurrentActivityTaskExecutions: 8,
      maxConcurrentWorkflowTaskExecutions: DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS,
    });
    expect(workerConcurrencyFromEnv({ SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS: ' 4 ' })).toEqual({
      maxConcurrentActivityTaskExecutions: DEFAULT_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTaskExecutions: 4,
    });
  });

  it.each(['0', '-1', '1.5', '1e3', 'ten', '0x10', '9999999', 'Infinity'])('refuses %j, naming the variable and the value', (value) => {
    expect(() => workerConcurrencyFromEnv({ SLIPWAY_MAX_CONCURRENT_ACTIVITIES: value })).toThrow(
      new RegExp(`SLIPWAY_MAX_CONCURRENT_ACTIVITIES must be a positive integer.*"${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`),
    );
    expect(() => workerConcurrencyFromEnv({ SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS: value })).toThrow(/SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS must be/);
  });

  it('refuses a single workflow task slot, which the SDK rejects while it caches workflows', () => {
    expect(() => workerConcurrencyFromEnv({ SLIPWAY_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toThrow(/at least 2, got "1"/);
  });
});
