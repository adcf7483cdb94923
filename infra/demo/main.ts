/**
 * `npm start`: Slipway end to end on embedded defaults. Starts Temporal (with its Web UI), a real
 * cluster (Kubernetes, kwok nodes, the real Argo CD), the TodoApp GitOps repository and a worker with
 * the real activities; releases a good build to production and a bad one that staging rolls back;
 * prints the DORA figures of those releases (what `slipway metrics` prints); then keeps the stack
 * up until Ctrl-C (or exits with --once). Every process it started is stopped on the way out.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { collectDoraSummary } from '../../client/commands/metrics.js';
import { kustomizePath } from '../kustomize.js';
import { Cleanup } from './cleanup.js';
import { DEMO_APP } from './config.js';
import { printDoraSummary } from './dora-summary.js';
import { DEMO_USAGE, DemoUsageError, parseDemoArgs, type DemoOptions } from './options.js';
import { runDemoReleases } from './releases.js';
import { startDemoStack, type DemoStack } from './stack.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

function stateDirFor(options: DemoOptions, cleanup: Cleanup): string {
  if (!options.stateDir) {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-demo-'));
    cleanup.add(`state dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }
  const dir = resolve(options.stateDir);
  // A fresh start every time: the GitOps repo and Temporal's history belong together.
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new DemoUsageError(`--state-dir ${dir} is not empty; give a new or empty folder`);
  return dir;
}

function printStack(stack: DemoStack): void {
  say('');
  say('Slipway demo is up:');
  say(`  Temporal UI       ${stack.temporal.uiUrl}`);
  say(`  Temporal          ${stack.temporal.address} (namespace ${stack.temporal.namespace}, task queue ${stack.settings.taskQueue})`);
  say(`  Kubernetes API    ${stack.cluster.url} (KUBECONFIG=${stack.cluster.kubeconfigPath}), Kubernetes ${stack.cluster.versions.kubernetes} with kwok nodes`);
  say(`  Argo CD           ${stack.cluster.versions.argocd} (application-controller, repo-server), Applications in namespace argocd`);
  say(`  GitOps repository ${stack.repo.bareUrl}`);
  say(`  Pipeline config   ${stack.configPath}`);
  say('  GitHub is not reachable in the demo: its slipway.yaml has no source.github, so no build, release tag');
  say('  or deployment status calls GitHub; releases are given their version instead of tagging one.');
}

function printStayingUp(stack: DemoStack): void {
  say('');
  say('The stack stays up until Ctrl-C. Look around:');
  say(`  Temporal UI: ${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows`);
  say(`  CLI:         TEMPORAL_ADDRESS=${stack.temporal.address} SLIPWAY_UI_URL=${stack.temporal.uiUrl} node dist/client/cli.js status todoapp`);
  say(`  GitOps:      git --git-dir ${stack.repo.barePath} log --stat`);
}

async function main(): Promise<number> {
  let options: DemoOptions;
  try {
    options = parseDemoArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${DEMO_USAGE}\n`);
    return 2;
  }
  if (options.help) {
    say(DEMO_USAGE);
    return 0;
  }

  const cleanup = new Cleanup((line) => say(`  ${line}`));
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = signal;
    say(`\n${signal}: stopping everything the demo started …`);
    void cleanup.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A crash still stops what was started. While stopping, calls still in flight (a progress query
  // retrying on a closed connection) fail by design: that is not news.
  const onFatal = (err: unknown) => {
    if (cleanup.stopping) return;
    process.stderr.write(`demo failed: ${(err as Error)?.stack ?? String(err)}\n`);
    void cleanup.run().finally(() => process.exit(1));
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);

  try {
    const stateDir = stateDirFor(options, cleanup);
    say(`Slipway demo — files in ${stateDir}`);
    // The worker renders every overlay edit with kustomize before committing it, and finds it here.
    process.env.SLIPWAY_KUSTOMIZE ??= kustomizePath();
    const stack = await startDemoStack({ stateDir, soak: options.soak, cleanup, say });
    printStack(stack);
    const releasesFrom = Date.now();
    const outcome = await runDemoReleases(stack, say);
    await printDoraSummary(
      () =>
        collectDoraSummary(stack.client, {
          app: DEMO_APP,
          environments: stack.config.apps[DEMO_APP]!.environments.map((e) => e.name),
          window: { since: releasesFrom, until: Date.now() },
        }),
      say,
    );
    const ok = outcome.goodReleased && outcome.badRolledBack;
    say('');
    say(ok ? 'Demo finished: release 1 reached production, release 2 was rolled back in staging.' : 'Demo finished, but not as expected (see above).');
    if (options.once) {
      say('stopping (--once) …');
      await cleanup.run();
      return ok ? 0 : 1;
    }
    printStayingUp(stack);
    await new Promise(() => setInterval(() => undefined, 60_000)); // until a signal ends the process
    return 0;
  } catch (err) {
    if (signalled) return new Promise(() => undefined); // the signal handler exits once cleanup is done
    process.stderr.write(`demo failed: ${err instanceof DemoUsageError ? err.message : ((err as Error).stack ?? String(err))}\n`);
    await cleanup.run();
    return err instanceof DemoUsageError ? 2 : 1;
  }
}

process.exitCode = await main();
// Connections and timers may linger a moment after cleanup; the demo is done.
process.exit(process.exitCode);
