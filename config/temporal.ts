/**
 * How the worker, the CLI and the webhook reach Temporal, from environment variables:
 * TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default), SLIPWAY_TASK_QUEUE
 * (slipway), TEMPORAL_API_KEY for Temporal Cloud (implies TLS), TEMPORAL_TLS=true for TLS without
 * a key, SLIPWAY_UI_URL for links to the Temporal UI. The API key is never logged.
 *
 * It lives in config/ because the worker and the clients both read it and neither owns it; it only
 * turns the environment into options, and each process opens its own kind of connection
 * (the worker a NativeConnection, the clients client/connect.ts).
 */
import { TASK_QUEUE_DEFAULT } from '../core/ids.js';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls: boolean;
  uiUrl?: string;
}

export function temporalSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  return {
    address: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.SLIPWAY_TASK_QUEUE || TASK_QUEUE_DEFAULT,
    apiKey,
    tls: Boolean(apiKey) || env.TEMPORAL_TLS === 'true',
    uiUrl: env.SLIPWAY_UI_URL || undefined,
  };
}

/** Options for `Connection.connect` and `NativeConnection.connect` alike. */
export function connectionOptions(settings: TemporalSettings) {
  return {
    address: settings.address,
    tls: settings.tls ? {} : undefined,
    apiKey: settings.apiKey,
    metadata: settings.apiKey ? { 'temporal-namespace': settings.namespace } : undefined,
  };
}
