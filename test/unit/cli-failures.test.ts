/** What the CLI prints for a failed workflow: the reason from the cause chain, not the client's wrapper. */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { failureText, innermostFailure, outcomeFailureText } from '../../client/failure-text.js';

const dumpFailed = () =>
  ApplicationFailure.nonRetryable('backup of todoapp/staging failed while taking the dump: cannot reach the database at 127.0.0.1:5999/gone', 'BackupFailed');

describe('failureText', () => {
  it('names the ApplicationFailure a workflow failed with, by type and message', () => {
    const err = new WorkflowFailedError('Workflow execution failed', dumpFailed(), RetryState.NON_RETRYABLE_FAILURE);
    expect(failureText(err)).toBe('BackupFailed: backup of todoapp/staging failed while taking the dump: cannot reach the database at 127.0.0.1:5999/gone');
  });

  it('reaches through an activity failure to the innermost typed failure', () => {
    const inner = ApplicationFailure.create({ message: 'connect ECONNREFUSED 127.0.0.1:5999', type: 'ConnectionRefused', nonRetryable: true });
    const outer = ApplicationFailure.create({ message: 'backup failed', type: 'BackupFailed', cause: inner });
    const activity = new ActivityFailure('Activity task failed', 'takeBackup', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', outer);
    const err = new WorkflowFailedError('Workflow execution failed', activity, RetryState.NON_RETRYABLE_FAILURE);
    expect(innermostFailure(err)).toEqual({ type: 'ConnectionRefused', message: 'connect ECONNREFUSED 127.0.0.1:5999' });
  });

  it('says the innermost message when nothing in the chain has a type (a timeout)', () => {
    const err = new WorkflowFailedError('Workflow execution failed', new TimeoutFailure('Workflow execution timed out', undefined, TimeoutType.START_TO_CLOSE), RetryState.TIMEOUT);
    expect(failureText(err)).toBe('Workflow execution timed out');
  });

  it('passes any other error through by its message', () => {
    expect(failureText(new Error('no backup schedule for a/b'))).toBe('no backup schedule for a/b');
    expect(failureText('plain text')).toBe('plain text');
  });
});

describe('outcomeFailureText', () => {
  it('keeps the summary a release failed with, not the reason buried under it', () => {
    const inner = ApplicationFailure.create({ message: 'not today', type: 'Rejected' });
    const summary = ApplicationFailure.create({ message: 'production: promotion rejected by dave: not today', type: 'ReleaseFailed', cause: inner });
    expect(outcomeFailureText(new WorkflowFailedError('Workflow execution failed', summary, RetryState.NON_RETRYABLE_FAILURE))).toBe('production: promotion rejected by dave: not today');
  });

  it('reaches through an activity failure the workflow did not catch, instead of printing "Activity task failed"', () => {
    const reason = ApplicationFailure.nonRetryable('the worker’s policy has no app "shop"', 'PolicyRefused');
    const activity = new ActivityFailure('Activity task failed', 'releasePolicy', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', reason);
    expect(outcomeFailureText(new WorkflowFailedError('Workflow execution failed', activity, RetryState.NON_RETRYABLE_FAILURE))).toBe('the worker’s policy has no app "shop"');
  });

  it('says a timeout or a plain error by its message', () => {
    expect(outcomeFailureText(new WorkflowFailedError('Workflow execution failed', new TimeoutFailure('Workflow execution timed out', undefined, TimeoutType.START_TO_CLOSE), RetryState.TIMEOUT))).toBe('Workflow execution timed out');
    expect(outcomeFailureText(new Error('connection refused'))).toBe('connection refused');
  });
});
