/** Builds by shell command: real `sh`, a temp working directory, the env, exit codes and timeouts. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createBuildActivities } from '../../activities/build/index.js';
import { FailureType } from '../../activities/types.js';
import { failureOf } from '../support/failures.js';

const { runBuildCommand } = createBuildActivities();
const COMMIT = '3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c';

/** Runs `fn` with `vars` in the worker's own environment (what a build command inherits). */
async function withWorkerEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
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

  it("removes the worker's secrets and anything credential-shaped from a failed build's output", async () => {
    const env = {
      REGISTRY_PASSWORD: 'r3gistry-Passw0rd!',
      NPM_TOKEN: 'npm_0123456789abcdefSECRET',
      DATABASE_URL: 'postgres://app:db-Passw0rd-9@db.internal:5432/app',
      DEPLOY_KEY: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----',
      BUILD_FLAVOUR: 'release-candidate',
    };
    const shaped = {
      github: 'ghp_0123456789abcdefghijABCDEFGHIJ012345',
      aws: 'AKIAIOSFODNN7EXAMPLE',
      bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzbGlwd2F5In0.c2lnbmF0dXJlLXZhbHVl',
      url: 'https://ci-bot:url-Passw0rd-7@registry.example/v2/',
    };
    const command = [
      'echo "flavour $BUILD_FLAVOUR"',
      'echo "login with $REGISTRY_PASSWORD"',
      'echo "npm: $NPM_TOKEN" >&2',
      'echo "db at $DATABASE_URL"',
      'echo "the password alone: db-Passw0rd-9"',
      'printf "%s\\n" "$DEPLOY_KEY"',
      // Values no variable names: only their shape gives them away. Assembled at run time, so
      // the command text (which is in history anyway) holds none of them.
      `echo "git: gh""p_${shaped.github.slice(4)}"`,
      `echo "aws: AK""IA${shaped.aws.slice(4)}"`,
      `echo "Authorization: Bearer ${shaped.bearer.slice(0, 3)}""${shaped.bearer.slice(3)}"`,
      `echo "push to https://ci-bot:url-Pass""w0rd-7@registry.example/v2/"`,
      'exit 7',
    ].join('\n');
    const failure = await withWorkerEnv(env, () => failureOf(runBuildCommand({ command, commit: COMMIT, app: 'todoapp', timeoutMs: 10_000 })));
    expect(failure.message).toContain('exited with 7');
    expect(failure.message).toContain('flavour release-candidate');
    for (const secret of ['r3gistry-Passw0rd!', 'npm_0123456789abcdefSECRET', 'db-Passw0rd-9', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', 'url-Passw0rd-7', ...Object.values(shaped)]) {
      expect(failure.message).not.toContain(secret);
    }
    expect(failure.message).toContain('login with ***');
    expect(failure.message).toContain('Authorization: Bearer ***');
    expect(failure.message).toContain('https://***@registry.example/v2/');
  });

  it('leaves no part of a secret where the kept output was cut from a longer one', async () => {
    const token = 'TOKENVALUE0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    // ~60 kB of nothing but the secret, one per line: wherever the tail is cut, it cuts one.
    const failure = await withWorkerEnv({ RELEASE_TOKEN: token }, () =>
      failureOf(runBuildCommand({ command: 'for i in $(seq 1 1300); do echo "$RELEASE_TOKEN"; done; exit 1', commit: COMMIT, app: 'todoapp', timeoutMs: 20_000 })),
    );
    const shown = failure.message.split('---\n')[1] ?? '';
    expect(shown.split('\n').length).toBe(20);
    for (let i = 0; i + 6 <= token.length; i++) expect(shown).not.toContain(token.slice(i, i + 6));
  });

  it('a build may print far more than any buffer holds', async () => {
    // 80 MB on stdout and a line on stderr: the build succeeds; it is not killed for its output.
    const result = await runBuildCommand({
      command: "head -c 80000000 /dev/zero | tr '\\0' x; echo; echo done >&2",
      commit: COMMIT,
      app: 'todoapp',
      timeoutMs: 60_000,
    });
    expect(result.conclusion).toBe('success');
  }, 90_000);

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
