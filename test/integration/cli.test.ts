/**
 * The built `slipway` CLI (dist/client/cli.js, made by `npm run build`) run as a subprocess against
 * the real Temporal server, with a worker whose outside systems are a FakeWorld.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startTestWorker, temporalAddress, type RunningWorker } from '../support/temporal.js';
import { commitSha, newWorld, uniqueApp } from '../support/pipelines.js';
import type { FakeWorld } from '../support/fake-world.js';

const CLI = join(process.cwd(), 'dist', 'client', 'cli.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>, onStdout?: (all: string) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

let worker: RunningWorker;
let world: FakeWorld;
let app: string;
let env: Record<string, string>;
let configFile: string;

beforeAll(async () => {
  expect(existsSync(CLI), `${CLI} is missing: the test command builds it (npm run build)`).toBe(true);
  app = uniqueApp('todo');
  world = newWorld(app);
  world.updateRules({ healthDelayMs: 1200 }); // long enough for the CLI to show the wait
  worker = await startTestWorker(world.activities());
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
  configFile = join(dir, 'slipway.yaml');
  writeFileSync(
    configFile,
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
  env = {
    TEMPORAL_ADDRESS: temporalAddress(),
    SLIPWAY_TASK_QUEUE: worker.taskQueue,
    SLIPWAY_UI_URL: inject('temporalUiUrl') || 'http://127.0.0.1:8233',
    SLIPWAY_CONFIG: configFile,
    SLIPWAY_USER: 'carol',
  };
});

afterAll(async () => {
  await worker?.stop();
});

/** Starts `slipway release`, waits until production awaits approval, then runs `decide`. */
async function releaseUntilApproval(commit: string, version: string, decide: string[]): Promise<{ release: Run; decision: Run }> {
  let decision: Promise<Run> | undefined;
  const release = await cli(['release', app, commit, '--version', version], env, (out) => {
    if (!decision && /production \(awaiting-approval/.test(out)) decision = cli(decide, env);
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
    expect(release.stderr).toMatch(/release failed: production: promotion rejected by carol: not today/);
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
    const unknown = await cli(['rollback', app, 'production', '--to', '9.9.9'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/has no deployment of 9\.9\.9 to go back to/);
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
    const badConfig = await cli(['status'], { ...env, SLIPWAY_CONFIG: '/nonexistent/slipway.yaml' });
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toMatch(/\/nonexistent\/slipway\.yaml: invalid configuration/);
    const help = await cli(['--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: slipway/);
    for (const command of ['release', 'promote', 'status', 'approve', 'reject', 'rollback', 'history', 'cancel']) {
      expect(help.stdout).toContain(command);
    }
  });
});
