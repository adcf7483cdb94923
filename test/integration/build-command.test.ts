/** Builds by shell command: real `sh`, a temp working directory, the environment the policy gives it, exit codes and timeouts. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBuildActivities } from '../../activities/build/index.js';
import { FailureType } from '../../activities/types.js';
import { ConfigError, parseConfig } from '../../config/schema.js';
import { failureOf } from '../support/failures.js';

const { runBuildCommand } = createBuildActivities();
const COMMIT = '3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0c';

/** Runs `fn` with `vars` in the worker's own environment; a build sees only those the policy names. */
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
    const { rmSync } = await import('node:fs');
    const [commit, app, cwd] = readFileSync(marker, 'utf8').split(' ');
    rmSync(marker);
    expect(commit).toBe(COMMIT);
    expect(app).toBe('todoapp');
    expect(cwd).toMatch(/slipway-build-todoapp-/);
    expect(existsSync(cwd!)).toBe(false);
  });

  it("a build sees none of the worker's variables: only PATH, HOME, TMPDIR, LANG, SLIPWAY_COMMIT, SLIPWAY_APP and those the policy names", async () => {
    const worker = {
      GITHUB_TOKEN: 'ghp_workerGithubToken0123456789abcdefABCD',
      GITOPS_TOKEN: 'gitops-worker-token-0123456789',
      TEMPORAL_API_KEY: 'temporal-api-key-0123456789',
      PROD_DATABASE_URL: 'postgres://app:prod-db-Passw0rd@db.internal:5432/app',
      DISCORD_WEBHOOK_URL: 'https://discord.example/api/webhooks/1/discord-hook-secret',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      SLIPWAY_WEBHOOK_SECRET: 'webhook-secret-0123456789',
      NPM_TOKEN: 'npm_namedByThePolicy0123456789',
      BUILD_FLAVOUR: 'release-candidate',
    };
    const dump = join(mkdtempSync(join(tmpdir(), 'slipway-build-env-')), 'env');
    const result = await withWorkerEnv(worker, () =>
      runBuildCommand({
        command: `env > ${dump}; printf 'build ran in %s\n' "$PWD" >> ${dump}; touch "$TMPDIR/scratch" && echo tmp-writable >> ${dump}`,
        commit: COMMIT,
        app: 'todoapp',
        timeoutMs: 10_000,
        env: ['NPM_TOKEN', 'BUILD_FLAVOUR', 'NOT_SET_ON_THE_WORKER'],
      }),
    );
    expect(result.conclusion).toBe('success');
    const text = readFileSync(dump, 'utf8');
    const seen = new Map(text.split('\n').filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    console.log(`build-command: the build saw ${[...seen.keys()].sort().join(', ')}`);
    for (const name of ['GITHUB_TOKEN', 'GITOPS_TOKEN', 'TEMPORAL_API_KEY', 'PROD_DATABASE_URL', 'DISCORD_WEBHOOK_URL', 'KUBERNETES_SERVICE_HOST', 'SLIPWAY_WEBHOOK_SECRET']) {
      expect(seen.has(name), name).toBe(false);
      // Asserted as a flag, so a failure names the variable and never prints the environment.
      expect(text.includes(worker[name as keyof typeof worker]), `${name}'s value in the build`).toBe(false);
    }
    expect(seen.get('NPM_TOKEN')).toBe(worker.NPM_TOKEN);
    expect(seen.get('BUILD_FLAVOUR')).toBe('release-candidate');
    expect(seen.has('NOT_SET_ON_THE_WORKER')).toBe(false);
    expect(seen.get('SLIPWAY_COMMIT')).toBe(COMMIT);
    expect(seen.get('SLIPWAY_APP')).toBe('todoapp');
    expect(seen.get('PATH')).toBe(process.env.PATH);
    // HOME is the build's own scratch directory (where it runs), TMPDIR a writable folder inside it.
    const cwd = text.match(/^build ran in (.*)$/m)?.[1];
    expect(cwd).toMatch(/slipway-build-todoapp-/);
    expect(seen.get('HOME')).toBe(cwd);
    expect(seen.get('TMPDIR')?.startsWith(`${cwd}/`)).toBe(true);
    expect(text).toContain('tmp-writable');
    expect(existsSync(cwd!)).toBe(false);
    // Nothing else: what the shell sets for itself (PWD, SHLVL, _) aside.
    const allowed = new Set(['PATH', 'HOME', 'TMPDIR', 'LANG', 'SLIPWAY_COMMIT', 'SLIPWAY_APP', 'NPM_TOKEN', 'BUILD_FLAVOUR', 'PWD', 'OLDPWD', 'SHLVL', '_']);
    expect([...seen.keys()].filter((name) => !allowed.has(name))).toEqual([]);
  });

  it('a build the policy names no variables for sees none of the worker’s', async () => {
    const dump = join(mkdtempSync(join(tmpdir(), 'slipway-build-env-')), 'env');
    await withWorkerEnv({ NPM_TOKEN: 'npm_notNamed0123456789', SOME_SETTING: 'worker-only' }, () =>
      runBuildCommand({ command: `env > ${dump}`, commit: COMMIT, app: 'todoapp', timeoutMs: 10_000 }),
    );
    const text = readFileSync(dump, 'utf8');
    expect(text.includes('npm_notNamed0123456789'), "NPM_TOKEN's value in the build").toBe(false);
    expect(text.includes('worker-only'), "SOME_SETTING's value in the build").toBe(false);
    expect(text).toContain(`SLIPWAY_COMMIT=${COMMIT}`);
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
    // Named by the policy, so the build sees them (and may print them); the worker's others it never sees.
    const failure = await withWorkerEnv(env, () => failureOf(runBuildCommand({ command, commit: COMMIT, app: 'todoapp', timeoutMs: 10_000, env: Object.keys(env) })));
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
      failureOf(runBuildCommand({ command: 'for i in $(seq 1 1300); do echo "$RELEASE_TOKEN"; done; exit 1', commit: COMMIT, app: 'todoapp', timeoutMs: 20_000, env: ['RELEASE_TOKEN'] })),
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

describe("a command build's variables in slipway.yaml", () => {
  const policy = (env: string) => `
gitops: { url: https://git.example/acme/gitops.git }
apps:
  todoapp:
    images: [todoapp/web]
    build: { command: make images, env: ${env} }
    environments: [ { name: staging, overlay: o, argocd: { application: todoapp-staging } } ]
`;
  const problems = (env: string) => {
    try {
      parseConfig(policy(env), 'slipway.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('are names of variables, which the parsed policy keeps', () => {
    const build = parseConfig(policy('[NPM_TOKEN, REGISTRY_URL]'), 'slipway.yaml').apps.todoapp!.build;
    expect(build).toMatchObject({ command: 'make images', env: ['NPM_TOKEN', 'REGISTRY_URL'] });
  });

  it('refuses a value where a name belongs, and the variables Slipway sets itself, naming the entry and line', () => {
    expect(problems('["npm_token=abc"]')).toEqual([expect.objectContaining({ path: 'apps.todoapp.build.env[0]', line: 6, message: expect.stringContaining('name of an environment variable') })]);
    expect(problems('[HOME]')).toEqual([expect.objectContaining({ path: 'apps.todoapp.build.env[0]', message: expect.stringContaining('set by Slipway') })]);
    expect(problems('NPM_TOKEN')).toHaveLength(1);
  });
});

describe('the README on command builds', () => {
  it('says GitHub Actions builds are the safe default, what a command build sees, and what it can still read', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    expect(readme).toContain('**GitHub Actions builds are the safe default**');
    expect(readme).toContain('only `PATH`, `LANG`, `HOME` (the scratch directory), `TMPDIR` (inside it), `SLIPWAY_COMMIT`, `SLIPWAY_APP` and the variables `env` names');
    expect(readme).toContain('/var/run/secrets/kubernetes.io/serviceaccount/token');
  });
});
