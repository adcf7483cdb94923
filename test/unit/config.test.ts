import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/schema.js';
import { loadConfigFile } from '../../config/load.js';

const VALID = `
gitops: { url: "file:///srv/gitops.git", branch: main }
apps:
  todoapp:
    source: { github: org/todoapp }
    images: [todoapp/frontend, todoapp/backend]
    build: { githubActions: { workflow: build.yml } }
    environments:
      - name: staging
        overlay: 1.2/overlays/staging
        argocd: { application: todoapp-staging, namespace: argocd }
        checks: [ { soak: 2m }, { http: { url: "https://staging.example/healthz", expectStatus: 200 } } ]
        notify: log
      - name: production
        overlay: 1.2/overlays/production
        argocd: { application: todoapp-production }
        approval: { required: true, timeout: 24h }
        freeze: [ { cron: "0 17 * * FRI", duration: 64h } ]
        notify: { discord: { urlFromEnv: DISCORD_WEBHOOK_URL } }
        backup: { schedule: "0 3 * * *", postgres: { urlFromEnv: PROD_DATABASE_URL }, keep: 14 }
`;

function problemsOf(text: string): ConfigError {
  try {
    parseConfig(text, 'slipway.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected the config to be rejected');
}

describe('slipway.yaml', () => {
  it('parses a full pipeline into typed config with defaults and durations in ms', () => {
    const config = parseConfig(VALID, 'slipway.yaml');
    const app = config.apps.todoapp!;
    expect(app.environments.map((e) => e.name)).toEqual(['staging', 'production']);
    expect(app.environments[0]!.checks[0]).toEqual({ soak: 120_000 });
    expect(app.environments[0]!.checks[1]).toMatchObject({ http: { timeout: 10_000, attempts: 3 } });
    expect(app.environments[1]!.argocd).toEqual({ application: 'todoapp-production', namespace: 'argocd', sync: false, timeout: 600_000, runningSync: { promote: 'wait', rollback: 'terminate' } });
    expect(app.environments[1]!.approval).toEqual({ required: true, timeout: 86_400_000, count: 1, fourEyes: true, channels: ['github', 'cli', 'ui'] });
    expect(app.environments[1]!.rollback).toEqual({ freeze: 'ignore', approval: false });
    expect(app.promotion).toEqual({ unvalidated: 'run-earlier', allowOverride: false });
    expect(app.environments[1]!.freeze[0]).toEqual({ cron: '0 17 * * FRI', duration: 64 * 3_600_000 });
    expect(app.source).toEqual({ github: 'org/todoapp', tokenFromEnv: 'GITHUB_TOKEN' });
    expect(app.tag).toEqual({ format: 'v{version}', pattern: 'v*.*.*', prereleases: false });
    expect(config.engine).toEqual({ heartbeatTimeout: 30_000, stepTimeout: 300_000, historyPerEnvironment: 20 });
  });

  it('names the file, the field path, the line and what was expected', () => {
    const error = problemsOf(VALID.replace('timeout: 24h', 'timeout: soon'));
    expect(error.message).toMatch(/^slipway\.yaml: invalid configuration/);
    expect(error.problems).toEqual([
      expect.objectContaining({ path: 'apps.todoapp.environments[1].approval.timeout', message: expect.stringMatching(/expected a duration like .* got "soon"/) }),
    ]);
    expect(error.problems[0]!.line).toBe(17);
    expect(error.message).toContain('apps.todoapp.environments[1].approval.timeout (line 17)');
  });

  it('rejects unknown keys, bad cron, duplicate environments and secrets written inline', () => {
    expect(problemsOf(VALID.replace('notify: log', 'notify: log\n        replicas: 3')).message).toMatch(/environments\[0\].*replicas/s);
    expect(problemsOf(VALID.replace('0 17 * * FRI', '0 25 * * FRI')).message).toMatch(/freeze\[0\]\.cron.*hour/);
    expect(problemsOf(VALID.replace('name: production', 'name: staging')).message).toMatch(/environments\[1\]\.name.*duplicate environment "staging"/);
    expect(problemsOf(VALID.replace('urlFromEnv: DISCORD_WEBHOOK_URL', 'url: "https://discord.com/api/webhooks/1/secret"')).message).toMatch(/notify/);
    expect(problemsOf(VALID.replace('urlFromEnv: PROD_DATABASE_URL', 'urlFromEnv: "postgres://u:p@db/x"')).message).toMatch(/urlFromEnv.*environment variable/);
  });

  it('refuses credentials written into the GitOps URL, naming the field and line but not the secret', () => {
    for (const url of ['https://deploy:hunter22@git.example/gitops.git', 'https://ghp_abcdef0123456789@github.com/org/gitops.git', 'ssh://git:hunter22@git.example/gitops.git']) {
      const error = problemsOf(VALID.replace('file:///srv/gitops.git', url));
      expect(error.problems).toEqual([expect.objectContaining({ path: 'gitops.url', line: 2, message: expect.stringMatching(/without credentials/) })]);
      expect(error.message).toContain('gitops.url (line 2)');
      expect(error.message).not.toMatch(/hunter22|ghp_abcdef/);
    }
    // A user name alone is no credential outside http(s): ssh remotes keep theirs.
    for (const url of ['ssh://git@github.com/org/gitops.git', 'git@github.com:org/gitops.git', 'https://github.com/org/gitops.git', '/srv/gitops.git']) {
      expect(parseConfig(VALID.replace('file:///srv/gitops.git', url), 'slipway.yaml').gitops.url).toBe(url);
    }
  });

  it('refuses HTTP check URLs with credentials or tokens in the query, naming the check and line but not the secret', () => {
    const withCheck = (url: string) => VALID.replace('https://staging.example/healthz', url);
    const userinfo = problemsOf(withCheck('https://probe:pa55word@staging.example/healthz'));
    expect(userinfo.problems).toEqual([
      expect.objectContaining({ path: 'apps.todoapp.environments[0].checks[1].http.url', line: 12, message: expect.stringMatching(/without credentials.*user:password@/) }),
    ]);
    expect(userinfo.message).not.toContain('pa55word');
    for (const query of ['?token=abc123', '?region=eu&access_token=abc123', '?X-Amz-Signature=abc123', '#id_token=abc123']) {
      const error = problemsOf(withCheck(`https://staging.example/healthz${query}`));
      expect(error.problems).toEqual([expect.objectContaining({ path: 'apps.todoapp.environments[0].checks[1].http.url', line: 12, message: expect.stringMatching(/no credentials in the URL/) })]);
      expect(error.message).not.toContain('abc123');
    }
    expect(parseConfig(withCheck('https://staging.example/healthz?region=eu&full=1'), 'slipway.yaml').apps.todoapp!.environments[0]!.checks[1]).toMatchObject({
      http: { url: 'https://staging.example/healthz?region=eu&full=1' },
    });
  });

  it('rejects overlays outside the repository and YAML that does not parse', () => {
    expect(problemsOf(VALID.replace('1.2/overlays/staging', '../../etc')).message).toMatch(/environments\[0\]\.overlay.*relative/);
    const syntax = problemsOf('gitops: { url: x\napps: [');
    expect(syntax.message).toMatch(/YAML syntax/);
    expect(syntax.problems[0]!.line).toBeGreaterThan(0);
  });

  it('refuses a duration over 366 days, naming the field and line, where it used to read as Infinity', () => {
    const error = problemsOf(VALID.replace('timeout: 24h', `timeout: ${'9'.repeat(400)}d`));
    expect(error.problems).toEqual([
      { path: 'apps.todoapp.environments[1].approval.timeout', line: 17, message: expect.stringMatching(/longer than the longest duration allowed, 366d/) },
    ]);
  });

  it('refuses a YAML alias bomb as a config error naming the file and the line of the alias that overflows', () => {
    // Each line multiplies the one before by ten: line 5 is where the expansion passes 100,000 nodes.
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f'], ['h', 'g'], ['i', 'h']]) bomb.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    const error = problemsOf(bomb.join('\n'));
    expect(error.message).toMatch(/^slipway\.yaml: invalid configuration/);
    expect(error.problems).toEqual([{ path: 'e[7]', line: 5, message: expect.stringMatching(/aliases expand .* more than 100000 nodes/) }]);
  });

  it('names the line of an alias with no anchor before it, and of one inside the node it names', () => {
    expect(problemsOf(VALID.replace('images: [todoapp/frontend, todoapp/backend]', 'images: *shared')).problems).toEqual([
      { path: 'apps.todoapp.images', line: 6, message: 'YAML alias *shared has no anchor &shared before it' },
    ]);
    expect(problemsOf(VALID.replace('images: [todoapp/frontend, todoapp/backend]', 'images: &i [todoapp/frontend, *i]')).problems).toEqual([
      { path: 'apps.todoapp.images[1]', line: 6, message: 'YAML alias *i is inside the node &i it names (a cycle)' },
    ]);
  });

  it('still reads anchors and aliases used as people use them', () => {
    const shared = VALID.replace('checks: [ { soak: 2m },', 'checks: &checks [ { soak: 2m },').replace('approval: { required: true, timeout: 24h }', 'approval: { required: true, timeout: 24h }\n        checks: *checks');
    const config = parseConfig(shared, 'slipway.yaml');
    expect(config.apps.todoapp!.environments[1]!.checks).toEqual(config.apps.todoapp!.environments[0]!.checks);
  });

  it('the CLI exits 2 on an alias bomb, printing the file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-config-'));
    const file = join(dir, 'slipway.yaml');
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) lines.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`);
    writeFileSync(file, lines.join('\n'));
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(process.cwd(), 'client/cli.ts'), '--config', file, 'backup', 'restore', 'a', 'b', '--into', 'scratch'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain(`${file}: invalid configuration`);
    expect(run.stderr).toMatch(/l4\[7\] \(line 5\): YAML aliases expand/);
  });

  it('reports a missing file by name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-config-'));
    await expect(loadConfigFile(join(dir, 'nope.yaml'))).rejects.toThrow(/nope\.yaml: invalid configuration\n.*file not found/);
    writeFileSync(join(dir, 'slipway.yaml'), VALID);
    expect(Object.keys((await loadConfigFile(join(dir, 'slipway.yaml'))).apps)).toEqual(['todoapp']);
  });
});
