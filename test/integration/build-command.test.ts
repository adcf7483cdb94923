/** Builds by shell command: real `sh`, a temp working directory, the env, exit codes and timeouts. */
import { existsSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createBuildActivities } from '../../activities/build/index.js';
import { FailureType } from '../../activities/types.js';

const { runBuildCommand } = createBuildActivities();
const COMMIT = '3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c';

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('runBuildCommand', () => {
  it('runs the command in a fresh temp dir with SLIPWAY_COMMIT and SLIPWAY_APP, then removes the dir', async () => {
    const marker = `/tmp/slipway-build-test-${process.pid}-${Date.now()}`;
    const result = await runBuildCommand({
      command: `printf '%s %s %s' "$SLIPWAY_COMMIT" "$SLIPWAY_APP" "$PWD" > ${marker}`,
      commit: COMMIT,
      app: 'todoapp',
      timeoutMs: 10_000,
    });
    expect(result.conclusion).toBe('success');
    const { readFileSync, rmSync } = await import('node:fs');
    const [commit, app, cwd] = readFileSync(marker, 'utf8').split(' ');
    rmSync(marker);
    expect(commit).toBe(COMMIT);
    expect(app).toBe('todoapp');
    expect(cwd).toMatch(/slipway-build-todoapp-/);
    expect(existsSync(cwd!)).toBe(false);
  });

  it('fails non-retryably with the exit code and the last lines of output', async () => {
    const failure = await failureOf(
      runBuildCommand({
        command: 'for i in $(seq 1 100); do echo "line $i"; done; echo "boom" >&2; exit 3',
        commit: COMMIT,
        app: 'todoapp',
        timeoutMs: 10_000,
      }),
    );
    expect(failure.type).toBe(FailureType.BuildFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('exited with 3');
    expect(failure.message).toContain('boom');
    expect(failure.message).toContain('line 100');
    expect(failure.message).not.toContain('line 50\n');
  });

  it('kills a command that runs past its timeout, children included', async () => {
    const started = Date.now();
    const failure = await failureOf(
      runBuildCommand({ command: 'echo started; sleep 30 & sleep 30; wait', commit: COMMIT, app: 'todoapp', timeoutMs: 500 }),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(failure.type).toBe(FailureType.BuildFailed);
    expect(failure.message).toContain('did not finish');
    expect(failure.message).toContain('started');
  });
});
