/**
 * The real webhook server on loopback, wired to Temporal as webhook/main.ts wires it (the policy
 * from a worker, releases, approvals, pull-request wake-ups and previews), for tests that send it
 * signed deliveries.
 */
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { fetchPolicy } from '../../client/policy.js';
import { sendDecisionViaTemporal } from '../../client/webhook/approval-relay.js';
import { createWebhookServer } from '../../client/webhook/server.js';
import { createdTagViaTemporal, startReleaseViaTemporal } from '../../client/webhook/start-release.js';
import { previewEventViaTemporal, wakePromotionsViaTemporal } from '../../client/webhook/wake-promotions.js';

export async function startTemporalWebhook(o: { client: Client; taskQueue: string; secret: string; log?: (line: string) => void }): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const server = createWebhookServer({
    secret: o.secret,
    policy: () => fetchPolicy(o.client, o.taskQueue),
    startRelease: startReleaseViaTemporal(o.client, o.taskQueue),
    createdTag: createdTagViaTemporal(o.client),
    sendDecision: sendDecisionViaTemporal(o.client),
    wakePromotions: wakePromotionsViaTemporal(o.client),
    previewEvent: previewEventViaTemporal(o.client, o.taskQueue),
    log: o.log ?? (() => {}),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
