/**
 * The Temporal client of the CLI and the webhook server, from the settings of config/temporal.ts.
 * A short connect timeout: a command against an unreachable Temporal should fail fast and say so.
 */
import { Client, Connection } from '@temporalio/client';
import { connectionOptions, type TemporalSettings } from '../config/temporal.js';

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({ ...connectionOptions(settings), connectTimeout: 5000 });
  return new Client({ connection, namespace: settings.namespace });
}
