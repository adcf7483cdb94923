/**
 * The random-kill fault test (test/support/random-kill-real.ts) on the production Temporal server
 * on PostgreSQL, a server of this file's own: the same 20 overlapping releases over real git and
 * the real Argo CD, two worker processes at a time with one SIGKILLed every few seconds.
 */
import { afterAll, beforeAll } from 'vitest';
import { startProductionServer, TEMPORAL_SERVER_VERSION, type ProductionServer } from '../../infra/temporal/production-server.js';
import { runScenarioOn } from '../support/scenario-temporal.js';

let server: ProductionServer | undefined;

// Registered before the scenario's hooks, so the server is up when they run.
beforeAll(async () => {
  server = await startProductionServer({ startTimeoutMs: 120_000 });
});

afterAll(async () => {
  await server?.stop();
});

runScenarioOn(`the Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL`, () => {
  if (!server) throw new Error('the production Temporal server did not start');
  return server.address;
});
await import('../support/random-kill-real.js');
