/**
 * The worker's policy store over a real file and a real git repository: versions by content,
 * each version kept, a reviewed commit as the source, and a broken policy refused with where.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyStore, policySourceFromEnv } from '../../activities/policy/index.js';
import { ConfigError } from '../../config/schema.js';

const policy = (soak: string) => `
gitops: { url: /srv/gitops.git }
apps:
  todoapp:
    images: [todoapp/web]
    environments:
      - { name: staging, overlay: overlays/staging, argocd: { application: todoapp-staging }, checks: [ { soak: ${soak} } ] }
`;

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
}

describe('policy store: file', () => {
  it('names each content by its hash, keeps every version read, and re-reads the file each time', async () => {
    const file = join(tempDir('slipway-policy-file-'), 'slipway.yaml');
    writeFileSync(file, policy('1m'));
    const store = new PolicyStore({ kind: 'file', path: file });
    const v1 = await store.current();
    expect(v1.version).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(v1.source).toBe(file);
    expect(v1.config.apps.todoapp!.environments[0]!.checks).toEqual([{ soak: 60_000 }]);

    writeFileSync(file, policy('2m'));
    const v2 = await store.current();
    expect(v2.version).not.toBe(v1.version);
    expect((await store.version(v1.version)).config.apps.todoapp!.environments[0]!.checks).toEqual([{ soak: 60_000 }]);
    expect((await store.version('sha256:0000000000000000')).version).toBe(v2.version);
    expect(store.all().map((v) => v.version)).toEqual([v1.version, v2.version]);

    writeFileSync(file, policy('1m'));
    expect((await store.current()).version).toBe(v1.version);
    expect(store.all()).toHaveLength(2);
  });

  it('refuses a broken or missing policy with the file, the field and the line', async () => {
    const file = join(tempDir('slipway-policy-bad-'), 'slipway.yaml');
    writeFileSync(file, policy('1m').replace('checks:', 'approval: { timeout: soon }, checks:'));
    const err = await new PolicyStore({ kind: 'file', path: file }).current().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/slipway\.yaml: invalid configuration[\s\S]*environments\[0\]\.approval\.timeout \(line 7\): expected a duration like 30s, 5m, 24h or 1h30m, got "soon"/);
    const missing = await new PolicyStore({ kind: 'file', path: join(tmpdir(), 'no-such-dir', 'slipway.yaml') }).current().catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/no-such-dir\/slipway\.yaml: invalid configuration\n {2}- \(root\): file not found/);
  });
});

describe('policy store: git', () => {
  it('reads the policy at the branch head of a repository and records the commit it came from', async () => {
    const bare = join(tempDir('slipway-policy-git-'), 'policy.git');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
    const work = tempDir('slipway-policy-work-');
    git(work, 'clone', '--quiet', bare, '.');
    writeFileSync(join(work, 'slipway.yaml'), policy('1m'));
    git(work, 'add', 'slipway.yaml');
    git(work, 'commit', '--quiet', '-m', 'policy');
    git(work, 'push', '--quiet', 'origin', 'HEAD:main');
    const first = git(work, 'rev-parse', 'HEAD');

    let now = 0;
    const store = new PolicyStore(policySourceFromEnv({ SLIPWAY_POLICY_GIT_URL: bare, SLIPWAY_POLICY_GIT_PATH: 'slipway.yaml' }), { gitRefreshMs: 1_000, now: () => now });
    const v1 = await store.current();
    expect(v1).toMatchObject({ commit: first, source: `${bare}@${first.slice(0, 12)}:slipway.yaml` });

    writeFileSync(join(work, 'slipway.yaml'), policy('3m'));
    git(work, 'commit', '--quiet', '-am', 'longer soak, reviewed');
    git(work, 'push', '--quiet', 'origin', 'HEAD:main');
    const second = git(work, 'rev-parse', 'HEAD');
    expect((await store.current()).commit, 'within the refresh interval the last read stands').toBe(first);
    now = 5_000;
    const v2 = await store.current();
    expect(v2.commit).toBe(second);
    expect(v2.config.apps.todoapp!.environments[0]!.checks).toEqual([{ soak: 180_000 }]);
    expect((await store.version(v1.version)).commit).toBe(first);
  });

  it('says which path is missing on which branch', async () => {
    const bare = join(tempDir('slipway-policy-git-empty-'), 'policy.git');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
    const work = tempDir('slipway-policy-work-');
    git(work, 'clone', '--quiet', bare, '.');
    writeFileSync(join(work, 'README'), 'no policy here');
    git(work, 'add', 'README');
    git(work, 'commit', '--quiet', '-m', 'readme');
    git(work, 'push', '--quiet', 'origin', 'HEAD:main');
    const err = await new PolicyStore(policySourceFromEnv({ SLIPWAY_POLICY_GIT_URL: bare, SLIPWAY_POLICY_GIT_PATH: 'deploy/slipway.yaml' })).current().catch((e: unknown) => e);
    expect((err as Error).message).toContain('no file deploy/slipway.yaml on branch main');
  });
});
