/**
 * The built `slipway` CLI (dist/client/cli.js, made by `npm run build`) run as a subprocess against
 * the real Temporal server, with a worker whose outside systems are a FakeWorld. The CLI is given
 * only Temporal settings: apps, environments and gates come from the worker's own slipway.yaml
 * (a real file read by the real PolicyStore), never from a file on the operator's side.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { environmentWorkflowId, releaseWorkflowId } from '../../core/ids.js';
import { queryEnvironmentState } from '../../client/environment-state.js';
import { TestPolicy } from '../support/policy.js';
import { startTestWorker, temporalAddress, testClient, type RunningWorker, workflowExists } from '../support/temporal.js';
import { commitSha, newWorld, uniqueApp } from '../support/pipelines.js';
import type { FakeWorld } from '../support/fake-world.js';

const CLI = join(process.cwd(), 'dist', 'client', 'cli.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI with `env` over this process's environment, less any SLIPWAY_CONFIG of its own
 * (the CLI must not need one); `options.bare` gives it nothing but `env` and PATH.
 */
function cli(args: string[], env: Record<string, string>, onStdout?: (all: string) => void, options: { cwd?: string; bare?: boolean } = {}): Promise<Run> {
  const { SLIPWAY_CONFIG: _ignored, ...inherited } = process.env;
  const childEnv = options.bare ? { PATH: process.env.PATH ?? '', ...env } : { ...inherited, ...env };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: childEnv, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let client: Client;
let worker: RunningWorker;
let world: FakeWorld;
let app: string;
let env: Record<string, string>;
let policy: TestPolicy;

beforeAll(async () => {
  expect(existsSync(CLI), `${CLI} is missing: the test command builds it (npm run build)`).toBe(true);
  client = await testClient();
  app = uniqueApp('todo');
  world = newWorld(app);
  world.updateRules({ healthDelayMs: 1200 }); // long enough for the CLI to show the wait
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
  policy = TestPolicy.fromText(
    `gitops: { url: "file://${dir}/gitops.git" }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }
apps:
  ${app}:
    images: [shop/web, shop/api]
    environments:
      - name: staging
        overlay: overlays/staging
        argocd: { application: ${app}-staging, timeout: 20s }
      - name: production
        overlay: overlays/production
        argocd: { application: ${app}-production, timeout: 20s }
        approval: { required: true, timeout: 5m }
`,
  );
  worker = await startTestWorker(world.activities(), undefined, policy.store);
  env = {
    TEMPORAL_ADDRESS: temporalAddress(),
    SLIPWAY_TASK_QUEUE: worker.taskQueue,
    SLIPWAY_UI_URL: inject('temporalUiUrl') || 'http://127.0.0.1:8233',
    SLIPWAY_USER: 'carol',
  };
});

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
});

const exists = (workflowId: string) => workflowExists(client, workflowId);

/**
 * Starts `slipway release` (as carol), waits until production awaits approval, then runs `decide`
 * as `decider` (someone else by default: the policy wants four eyes).
 */
async function releaseUntilApproval(commit: string, version: string, decide: string[], decider = 'dave'): Promise<{ release: Run; decision: Run }> {
  let decision: Promise<Run> | undefined;
  const release = await cli(['release', app, commit, '--version', version], env, (out) => {
    if (!decision && /production \(awaiting-approval/.test(out)) decision = cli(decide, { ...env, SLIPWAY_USER: decider });
  });
  expect(decision, `release output never showed production awaiting approval:\n${release.stdout}\n${release.stderr}`).toBeDefined();
  return { release, decision: await decision! };
}

describe('slipway CLI', () => {
  it('starts a release, shows progress, takes an approval and reports success', async () => {
    const commit = commitSha();
    const { release, decision } = await releaseUntilApproval(commit, '1.0.0', ['approve', app, 'production', '--comment', 'ship it']);

    expect(decision.code).toBe(0);
    expect(decision.stdout).toMatch(/approved: .* 1\.0\.0 in production/);
    expect(release.code, release.stderr).toBe(0);
    expect(release.stdout).toContain(`started: release/${app}/${commit}`);
    expect(release.stdout).toMatch(/Temporal UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/release%2F/);
    expect(release.stdout).toMatch(/▸ staging \((deploying|waiting-health)/);
    expect(release.stdout).toMatch(/waiting for production: awaiting-approval — approval to deploy 1\.0\.0/);
    expect(release.stdout).toMatch(/✔ staging — [0-9a-f]{40}\n\s+✔ production/);
    expect(release.stdout.trim().split('\n').at(-1)).toBe('released 1.0.0');

    const status = await cli(['--json', 'status', app], env);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { environments: Array<{ environment: string; current?: { version?: string } }> };
    expect(parsed.environments.map((e) => [e.environment, e.current?.version])).toEqual([
      ['staging', '1.0.0'],
      ['production', '1.0.0'],
    ]);
    const history = await cli(['history', app], env);
    expect(history.stdout).toMatch(/promote\s+1\.0\.0\s+promoted/);
  });

  it('exits 1 when the approval is rejected, naming who rejected it', async () => {
    const { release, decision } = await releaseUntilApproval(commitSha(), '1.1.0', ['reject', app, 'production', '--comment', 'not today']);
    expect(decision.code).toBe(0);
    expect(release.code).toBe(1);
    expect(release.stderr).toMatch(/release failed: production: promotion rejected by dave: not today/);
  });

  it('rolls production back to the previous build without asking for approval, and promotes a known build into one environment', async () => {
    // 1.0.0 runs in production (first test); release 1.2.0 on top of it.
    const { release } = await releaseUntilApproval(commitSha(), '1.2.0', ['approve', app, 'production']);
    expect(release.code, release.stderr).toBe(0);
    const rollback = await cli(['rollback', app, 'production'], env);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toMatch(new RegExp(`started: rollback/${app}/production/1\\.0\\.0-`));
    const status = JSON.parse((await cli(['--json', 'status', app], env)).stdout) as { environments: Array<{ environment: string; current?: { version?: string } }> };
    expect(status.environments.find((e) => e.environment === 'production')?.current?.version).toBe('1.0.0');
    expect(world.commits('overlays/production').at(-1)?.context).toMatchObject({ kind: 'rollback', version: '1.0.0' });

    // Staging runs 1.2.0; put 1.0.0 back there by version, only there.
    const promote = await cli(['promote', app, 'staging', '1.0.0'], env);
    expect(promote.code, promote.stderr).toBe(0);
    const after = JSON.parse((await cli(['--json', 'status', app], env)).stdout) as typeof status;
    expect(after.environments.map((e) => [e.environment, e.current?.version])).toEqual([
      ['staging', '1.0.0'],
      ['production', '1.0.0'],
    ]);
    // A target that names no known build is a usage error, before anything starts.
    const unknown = await cli(['rollback', app, 'production', '--to', '9.9.9'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/"9\.9\.9" is not a known version/);
  });

  it('issue 19 item 4: targets are exact; rolling forward is refused with a pointer to promote', async () => {
    // Production ran 1.2.0 and was rolled back to an earlier build (the test before).
    const production = await queryEnvironmentState(client, app, 'production');
    const newer = production!.recent.find((r) => r.version === '1.2.0' && r.outcome === 'promoted')!;
    expect(production!.current?.version).toMatch(/^1\.0\.\d$/);

    const forward = await cli(['rollback', app, 'production', '--to', '1.2.0'], env);
    expect(forward.code).toBe(2);
    expect(forward.stderr).toMatch(/1\.2\.0 \([0-9a-f]{7}\) is newer than 1\.0\.\d \([0-9a-f]{7}\), which runs in .*: that is not a rollback; use `slipway promote .* production 1\.2\.0`/);
    const forwardByCommit = await cli(['rollback', app, 'production', '--to', newer.commit.slice(0, 9)], env);
    expect(forwardByCommit.code).toBe(2);
    expect(forwardByCommit.stderr).toMatch(/not a rollback/);
    for (const loose of ['', 'abc', newer.commit.slice(0, 6)]) {
      const run = await cli(['promote', app, 'staging', loose], env);
      expect(run.code, `promote "${loose}"`).toBe(2);
      expect(run.stderr).toMatch(/a commit prefix needs at least 7 hex characters/);
      const back = await cli(['rollback', app, 'production', '--to', loose], env);
      expect(back.code, `rollback --to "${loose}"`).toBe(2);
    }

    // A short SHA no environment knows would be a second name for a build: refused, nothing started.
    const unknownShort = commitSha().slice(0, 8);
    const short = await cli(['release', app, unknownShort, '--no-wait'], env);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(new RegExp(`no build known to the app's environments starts with ${unknownShort}; give the full 40-character commit SHA`));
    expect(await exists(releaseWorkflowId(app, unknownShort))).toBe(false);
  });

  it('exits 1 when asked to approve an environment that is not waiting', async () => {
    const run = await cli(['approve', app, 'staging'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is not waiting for approval/);
  });

  it('exits 2 with a usage message for bad flags, arguments and config', async () => {
    const missing = await cli(['release', app], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument 'commit'/);
    const unknown = await cli(['release', app, commitSha(), '--fast'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--fast'/);
    const badSha = await cli(['release', app, 'not-a-sha'], env);
    expect(badSha.code).toBe(2);
    expect(badSha.stderr).toMatch(/<commit> must be a hex commit SHA/);
    const badEnv = await cli(['approve', app, 'prod'], env);
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/unknown environment "prod" \(known: staging, production\)/);
    // Only the backup schedules still read the operator's slipway.yaml.
    const badConfig = await cli(['schedules', 'sync'], { ...env, SLIPWAY_CONFIG: '/nonexistent/slipway.yaml' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/\/nonexistent\/slipway\.yaml: invalid configuration/);
    const help = await cli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: slipway/);
    for (const command of ['release', 'promote', 'status', 'approve', 'reject', 'rollback', 'history', 'cancel']) {
      expect(help.stdout).toContain(command);
    }
  });

  it('shows status and history with only Temporal settings: no SLIPWAY_CONFIG, no slipway.yaml in the working directory', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'slipway-cli-nocfg-'));
    const temporalOnly = { TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS!, SLIPWAY_TASK_QUEUE: env.SLIPWAY_TASK_QUEUE! };
    expect(existsSync(join(empty, 'slipway.yaml'))).toBe(false);

    const status = await cli(['--json', 'status', app], temporalOnly, undefined, { cwd: empty, bare: true });
    expect(status.code, status.stderr).toBe(0);
    const parsed = JSON.parse(status.stdout) as { environments: Array<{ app: string; environment: string; current?: { version?: string } }> };
    expect(parsed.environments.map((e) => [e.app, e.environment])).toEqual([
      [app, 'staging'],
      [app, 'production'],
    ]);
    expect(parsed.environments.find((e) => e.environment === 'production')?.current?.version).toMatch(/^\d+\.\d+\.\d+$/);

    const history = await cli(['history', app], temporalOnly, undefined, { cwd: empty, bare: true });
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain(`${app}/staging:`);
    expect(history.stdout).toContain(`${app}/production:`);
    expect(history.stdout).toMatch(/promote\s+1\.0\.0\s+promoted/);
  });

  it('exits 2 for a release of an app the worker’s policy lacks, even when the local slipway.yaml has it, and starts no workflow', async () => {
    const stranger = uniqueApp('stranger');
    const commit = commitSha();
    const local = join(mkdtempSync(join(tmpdir(), 'slipway-cli-local-')), 'slipway.yaml');
    writeFileSync(
      local,
      `gitops: { url: /tmp/operator-gitops.git }
apps:
  ${stranger}:
    images: [shop/web]
    environments:
      - { name: production, overlay: overlays/production, argocd: { application: ${stranger}-production } }
`,
    );
    const run = await cli(['release', stranger, commit], { ...env, SLIPWAY_CONFIG: local });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toContain(`error: unknown app "${stranger}"`);
    expect(run.stderr).toContain(`has: ${app}`);
    expect(run.stdout).not.toContain('started:');
    expect(await exists(releaseWorkflowId(stranger, commit))).toBe(false);
  });

  it('refuses an approval from the person who asked for the release, and takes one from someone else', async () => {
    let ownApproval: Promise<Run> | undefined;
    let otherApproval: Promise<Run> | undefined;
    const release = await cli(['release', app, commitSha(), '--version', '1.0.5'], env, (out) => {
      if (ownApproval || !/production \(awaiting-approval/.test(out)) return;
      ownApproval = cli(['approve', app, 'production'], env);
      otherApproval = ownApproval.then(() => cli(['approve', app, 'production'], { ...env, SLIPWAY_USER: 'erin' }));
    });
    const own = await ownApproval!;
    expect(own.code).toBe(1);
    expect(own.stderr).toMatch(/carol asked for 1\.0\.5 \([0-9a-f]{7}\) and may not approve it too \(the policy wants four eyes\)/);
    expect((await otherApproval!).code).toBe(0);
    expect(release.code, release.stderr).toBe(0);
    expect((await cli(['history', app], env)).stdout).toMatch(/promote\s+1\.0\.5\s+promoted[^\n]*\n\s+approved by cli:erin at \d{4}-\d\d-\d\dT[\d:.]+Z; policy sha256:[0-9a-f]{16}/);
  });
  it('cancel refuses an environment workflow (and anything but a release, promotion or rollback) with exit 2, and the environment keeps running', async () => {
    const envId = environmentWorkflowId(app, 'production');
    expect((await client.workflow.getHandle(envId).describe()).status.name).toBe('RUNNING');
    const run = await cli(['cancel', envId], env);
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stderr).toMatch(/cancel takes a release, promotion or rollback id/);
    expect(run.stderr).toContain(`"${envId}" is none of these: that is an environment workflow`);
    expect(run.stdout).not.toContain('cancellation requested');
    const backup = await cli(['cancel', `backup/${app}/production`], env);
    expect(backup.code).toBe(2);
    expect((await client.workflow.getHandle(envId).describe()).status.name).toBe('RUNNING');
    expect((await queryEnvironmentState(client, app, 'production'))?.recent.length).toBeGreaterThan(0);
  });
});
