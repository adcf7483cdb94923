/**
 * The production Temporal server (go.temporal.io/server, all four services in one process) on a
 * PostgreSQL of its own, set up as docker-compose.yml sets it up: setup-schema.sh (temporal-sql-tool
 * and the server module's own schema files), the server started with server-postgres.yaml, then
 * setup-namespace.sh (the `default` namespace and Slipway's search attributes). restart() stops
 * the server process and starts it again on the same ports and database: history on PostgreSQL
 * must carry what ran.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGroupProcess, type GroupProcess } from '../kube/process-group.js';
import { freeLowPort, portOpen } from '../ports.js';
import { startPostgres, type RunningPostgres } from '../postgres/server.js';
import { ensureGoTool, type GoTool } from '../tools.js';
import { temporalCliPath } from './cli.js';

export const TEMPORAL_SERVER_VERSION = 'v1.32.2';

const serverTool: GoTool = {
  name: 'temporal-server',
  goPackage: 'go.temporal.io/server',
  version: TEMPORAL_SERVER_VERSION,
  binary: 'temporal-server',
  envVar: 'SLIPWAY_TEMPORAL_SERVER',
  usePath: false,
  wrapper: {
    module: 'go.temporal.io/server',
    replaces: [],
    packages: { 'temporal-server': 'go.temporal.io/server/cmd/server', 'temporal-sql-tool': 'go.temporal.io/server/cmd/tools/sql' },
    // Its go.mod asks for this Go; the module proxy serves it.
    toolchain: 'go1.26.10',
    copyFromModule: ['schema/postgresql/v12'],
  },
};

export const temporalServerPath = (): string => ensureGoTool(serverTool);
const toolDir = () => resolve(temporalServerPath(), '..');

/** A file of infra/temporal that docker-compose.yml uses too, from the sources or from dist/. */
function shippedFile(name: string): string {
  const here = fileURLToPath(new URL(`./${name}`, import.meta.url));
  if (existsSync(here)) return here;
  const fromDist = resolve(fileURLToPath(new URL('.', import.meta.url)), `../../../infra/temporal/${name}`);
  if (existsSync(fromDist)) return fromDist;
  throw new Error(`cannot find ${name} next to ${here}`);
}

/** The server config shared with docker-compose.yml. */
export const serverConfigFile = (): string => shippedFile('server-postgres.yaml');

export interface ProductionServer {
  /** host:port of the frontend. */
  address: string;
  namespace: 'default';
  postgres: RunningPostgres;
  /** Process group id of the server. */
  pid(): number;
  /** Runs both setup scripts again on the running server, as every `docker compose up` does. */
  setupAgain(): void;
  /** Stops the server (SIGTERM, or with `kill` SIGKILL at once) and starts it again on the same ports and database. */
  restart(options?: { kill?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs one of the setup scripts docker-compose.yml runs (setup-schema.sh, setup-namespace.sh), with
 * this machine's tools in place of the admin-tools image's.
 */
function runSetupScript(name: 'setup-schema.sh' | 'setup-namespace.sh', env: Record<string, string>): void {
  const result = spawnSync('sh', [shippedFile(name)], { encoding: 'utf8', timeout: 180_000, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  if (result.status !== 0) throw new Error(`${name} failed: ${(result.stderr || result.stdout || String(result.error)).slice(-2000)}`);
}

function temporalCli(args: string[], address: string): { ok: boolean; output: string } {
  const result = spawnSync(temporalCliPath(), [...args, '--address', address], { encoding: 'utf8', timeout: 30_000 });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

export async function startProductionServer(options: { dir?: string; startTimeoutMs?: number } = {}): Promise<ProductionServer> {
  const ownsDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'slipway-temporal-'));
  mkdirSync(dir, { recursive: true });
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const binary = temporalServerPath();
  const pg = await startPostgres();
  let server: GroupProcess | undefined;
  try {
    const database = { POSTGRES_SEEDS: '127.0.0.1', DB_PORT: String(pg.port), POSTGRES_USER: 'postgres', POSTGRES_PWD: '' };
    const setupSchema = () =>
      runSetupScript('setup-schema.sh', { ...database, SQL_TOOL: join(toolDir(), 'temporal-sql-tool'), SCHEMA_DIR: join(toolDir(), 'module/schema/postgresql/v12') });
    setupSchema();
    const dynamicConfig = join(dir, 'dynamicconfig.yaml');
    // The shipped dynamic config, and for tests: search attributes registered a moment ago are
    // visible to the next list query at once.
    writeFileSync(dynamicConfig, `${readFileSync(shippedFile('dynamicconfig.yaml'), 'utf8')}\nsystem.forceSearchAttributesCacheRefreshOnRead:\n  - value: true\n`);
    const ports: Record<string, number> = {};
    for (const name of ['FRONTEND', 'FRONTEND_MEMBERSHIP', 'FRONTEND_HTTP', 'MATCHING', 'MATCHING_MEMBERSHIP', 'HISTORY', 'HISTORY_MEMBERSHIP', 'WORKER', 'WORKER_MEMBERSHIP', 'METRICS']) {
      ports[name] = await freeLowPort();
    }
    const env = {
      ...process.env,
      ...database,
      TEMPORAL_BIND_ADDRESS: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      TEMPORAL_DYNAMIC_CONFIG: dynamicConfig,
      ...Object.fromEntries(Object.entries(ports).map(([name, port]) => [`TEMPORAL_${name}_PORT`, String(port)])),
    };
    const address = `127.0.0.1:${ports.FRONTEND}`;
    const launch = async () => {
      server = startGroupProcess(binary, ['--config-file', serverConfigFile(), '--allow-no-auth', 'start'], join(dir, 'temporal-server.log'), env);
      const deadline = Date.now() + timeoutMs;
      // Ready when the frontend answers a health check, not only its port.
      while (!(await portOpen(ports.FRONTEND!)) || !temporalCli(['operator', 'cluster', 'health'], address).ok) {
        if (server.exited()) throw new Error(`temporal-server ${server.exited()} before it was ready (see ${join(dir, 'temporal-server.log')})`);
        if (Date.now() > deadline) throw new Error(`temporal-server not ready at ${address} within ${timeoutMs} ms (see ${join(dir, 'temporal-server.log')})`);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    await launch();
    // The server does not create the default namespace itself.
    const setupNamespace = () => runSetupScript('setup-namespace.sh', { TEMPORAL_ADDRESS: address, TEMPORAL_CLI: temporalCliPath() });
    setupNamespace();
    let stopped = false;
    return {
      address,
      namespace: 'default',
      postgres: pg,
      pid: () => server!.pid,
      setupAgain() {
        setupSchema();
        setupNamespace();
      },
      async restart(o = {}) {
        await server!.stop(o.kill ? 0 : 10_000);
        await launch();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await server?.stop(10_000);
        await pg.stop();
        if (ownsDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server?.stop();
    await pg.stop();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
