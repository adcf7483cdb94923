/**
 * The webhook process: `node dist/client/webhook/main.js`. Reads SLIPWAY_WEBHOOK_SECRET, PORT
 * (default 8080), the Temporal settings of config/temporal.ts, and GITHUB_TOKEN (GITHUB_API_URL
 * for GitHub Enterprise) to answer `/slipway` comments; it holds no copy of the policy and asks a
 * worker for it. SLIPWAY_WEBHOOK_MAX_CONNECTIONS (default 256) and SLIPWAY_WEBHOOK_MAX_BODY_BYTES
 * (default 65536) bound what unsigned senders can make it hold. Stops taking deliveries on
 * SIGTERM/SIGINT and exits once in-flight ones are answered.
 */
import { temporalSettingsFromEnv } from '../../config/temporal.js';
import { connectClient } from '../connect.js';
import { fetchPolicy } from '../policy.js';
import { sendDecisionViaTemporal } from './approval-relay.js';
import { githubFromEnv } from './github.js';
import { createWebhookServer, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS } from './server.js';
import { createdTagViaTemporal, startReleaseViaTemporal } from './start-release.js';
import { previewEventViaTemporal, wakePromotionsViaTemporal } from './wake-promotions.js';

async function main(): Promise<void> {
  const secret = process.env.SLIPWAY_WEBHOOK_SECRET;
  if (!secret) throw new Error('SLIPWAY_WEBHOOK_SECRET is not set: deliveries cannot be verified');
  const port = Number(process.env.PORT || 8080);
  const maxConnections = positiveInteger('SLIPWAY_WEBHOOK_MAX_CONNECTIONS', DEFAULT_MAX_CONNECTIONS);
  const maxBodyBytes = positiveInteger('SLIPWAY_WEBHOOK_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES);
  const settings = temporalSettingsFromEnv();
  const client = await connectClient(settings);
  const github = githubFromEnv();
  // Pushes work without GitHub; comments need it to find a pull request's commit and to answer.
  if (!github) console.log('GITHUB_TOKEN is not set: /slipway comments are ignored (pushes are not affected)');

  const server = createWebhookServer({
    secret,
    policy: () => fetchPolicy(client, settings.taskQueue),
    startRelease: startReleaseViaTemporal(client, settings.taskQueue),
    createdTag: createdTagViaTemporal(client),
    sendDecision: sendDecisionViaTemporal(client),
    wakePromotions: wakePromotionsViaTemporal(client),
    previewEvent: previewEventViaTemporal(client, settings.taskQueue),
    ...(github ? { github } : {}),
    maxConnections,
    maxBodyBytes,
  });
  await new Promise<void>((resolve) => server.listen(port, process.env.HOST || '0.0.0.0', resolve));
  console.log(`slipway webhook listening on :${port} (namespace ${settings.namespace}, task queue ${settings.taskQueue}; at most ${maxConnections} connections, ${maxBodyBytes} body bytes)`);

  const shutdown = (signal: string) => {
    console.log(`${signal}: finishing in-flight deliveries`);
    server.close(() => {
      void client.connection.close().finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    // A stuck connection must not keep the pod from stopping.
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** A limit from the environment: unset is the default, anything but a positive integer stops the start. */
function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return Number(text);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
