/**
 * The worker's /metrics: the Temporal SDK's Prometheus exporter, turned on by
 * SLIPWAY_METRICS_ADDRESS (`0.0.0.0:9464`), serving the SDK's worker metrics and Slipway's own
 * (core/metrics.ts) from one endpoint. The exporter binds a socket address, so the host must be an
 * IP address; anything else stops the worker at start-up, naming the variable, before it connects.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Runtime, type RuntimeOptions, type TelemetryOptions } from '@temporalio/worker';
import type { SlipwayConfig } from '../config/schema.js';
import {
  BACKUPS,
  BACKUP_OUTCOMES,
  EXPORTER_NAMING,
  PROMOTIONS,
  PROMOTION_KINDS,
  PROMOTION_OUTCOMES,
  ROLLBACKS,
  ROLLBACK_RESULTS,
  histogramBuckets,
  record,
} from '../core/metrics.js';

export const METRICS_ADDRESS_VAR = 'SLIPWAY_METRICS_ADDRESS';

export interface MetricsAddress {
  /** As the exporter takes it: `0.0.0.0:9464`, `[::]:9464`. */
  bindAddress: string;
  /** Where this host reaches it: http://127.0.0.1:9464/metrics for 0.0.0.0. */
  url: string;
}

const EXAMPLES = '0.0.0.0:9464 to listen on every interface, 127.0.0.1:9464 for this host only, [::]:9464 for IPv6';

/** Parses `<IPv4>:<port>` or `[<IPv6>]:<port>`; throws naming the variable, the value and what is expected. */
export function parseMetricsAddress(text: string): MetricsAddress {
  const fail = (why: string): never => {
    throw new Error(`${METRICS_ADDRESS_VAR}="${text}": ${why}; give <IP address>:<port>, e.g. ${EXAMPLES}`);
  };
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d*)$/.exec(text.trim());
  if (!m) return fail(text.includes(':') ? 'not a host:port address' : 'no port');
  const [, v6, v4, portText] = m;
  if (v6 !== undefined ? !isIPv6(v6) : !isIPv4(v4!)) {
    return fail(v6 !== undefined ? `"${v6}" is not an IPv6 address` : `"${v4}" is not an IP address (a host name cannot be bound)`);
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText!) || port < 1 || port > 65535) fail(`the port must be a number from 1 to 65535`);
  const host = v6 !== undefined ? `[${v6}]` : v4!;
  const local = v6 !== undefined ? (v6 === '::' ? '[::1]' : host) : v4 === '0.0.0.0' ? '127.0.0.1' : host;
  return { bindAddress: `${host}:${port}`, url: `http://${local}:${port}/metrics` };
}

/** The address from the environment; undefined (no endpoint) when unset or empty. */
export function metricsAddressFromEnv(env: NodeJS.ProcessEnv = process.env): MetricsAddress | undefined {
  const text = env[METRICS_ADDRESS_VAR]?.trim();
  return text ? parseMetricsAddress(text) : undefined;
}

/** The Runtime's telemetry for a /metrics endpoint at `address`, named as core/metrics.ts says. */
export function metricsTelemetry(address: MetricsAddress): TelemetryOptions {
  return {
    metrics: {
      prometheus: { bindAddress: address.bindAddress, ...EXPORTER_NAMING, histogramBucketOverrides: histogramBuckets() },
    },
  };
}

/**
 * Installs the process's Runtime with the endpoint SLIPWAY_METRICS_ADDRESS names, if any. The
 * exporter binds while the Runtime is made: a port already taken fails here, naming the variable,
 * instead of later in the SDK's words.
 */
export function installRuntime(options: RuntimeOptions, env: NodeJS.ProcessEnv = process.env): MetricsAddress | undefined {
  const address = metricsAddressFromEnv(env);
  if (!address) {
    Runtime.install(options);
    return undefined;
  }
  try {
    Runtime.install({ ...options, telemetryOptions: { ...options.telemetryOptions, ...metricsTelemetry(address) } });
  } catch (err) {
    throw new Error(`${METRICS_ADDRESS_VAR}=${address.bindAddress}: cannot serve /metrics there: ${err instanceof Error ? err.message : String(err)}`);
  }
  return address;
}

/**
 * Starts Slipway's counters at 0 for every environment of the policy. Prometheus's increase()
 * takes a series' first sample as its start, so a counter that first appears at 1 would lose that
 * promotion, rollback or backup from every "how many" panel and rule. The series carry the labels
 * the worker gives what workflows record (its namespace and task queue, the workflow's type), so
 * they are the very series the workflows count on. Environments added to the policy later start
 * at their first event.
 */
export function startSlipwayCounters(config: SlipwayConfig, where: { namespace: string; taskQueue: string }): void {
  const meter = Runtime.instance().metricMeter.withTags({ namespace: where.namespace, taskQueue: where.taskQueue });
  const environments = meter.withTags({ workflowType: 'environment' });
  const backups = meter.withTags({ workflowType: 'backup' });
  for (const [app, pipeline] of Object.entries(config.apps)) {
    for (const env of pipeline.environments) {
      const environment = env.name;
      for (const kind of PROMOTION_KINDS) for (const outcome of PROMOTION_OUTCOMES) record(environments, PROMOTIONS, 0, { app, environment, kind, outcome });
      for (const result of ROLLBACK_RESULTS) record(environments, ROLLBACKS, 0, { app, environment, result });
      if (env.backup) for (const outcome of BACKUP_OUTCOMES) record(backups, BACKUPS, 0, { app, environment, outcome });
    }
  }
}
