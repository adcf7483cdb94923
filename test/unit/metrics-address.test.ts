/**
 * SLIPWAY_METRICS_ADDRESS: what the worker accepts as the address of its /metrics, what it refuses
 * (with a message naming the variable) before anything binds or connects, and the exporter
 * settings it builds from it. Pure: no Runtime is installed here (one per process; the
 * integration tier starts workers in processes of their own).
 */
import { describe, expect, it } from 'vitest';
import { histogramBuckets, SLIPWAY_METRICS } from '../../core/metrics.js';
import { metricsAddressFromEnv, metricsTelemetry, parseMetricsAddress } from '../../worker/telemetry.js';

describe('the metrics address', () => {
  it('is off when SLIPWAY_METRICS_ADDRESS is unset or empty', () => {
    expect(metricsAddressFromEnv({})).toBeUndefined();
    expect(metricsAddressFromEnv({ SLIPWAY_METRICS_ADDRESS: '  ' })).toBeUndefined();
  });

  it('takes an IPv4 or bracketed IPv6 address with a port, and says where this host scrapes it', () => {
    expect(metricsAddressFromEnv({ SLIPWAY_METRICS_ADDRESS: '0.0.0.0:9464' })).toEqual({ bindAddress: '0.0.0.0:9464', url: 'http://127.0.0.1:9464/metrics' });
    expect(parseMetricsAddress('127.0.0.1:19464')).toEqual({ bindAddress: '127.0.0.1:19464', url: 'http://127.0.0.1:19464/metrics' });
    expect(parseMetricsAddress(' 10.0.3.7:80 ')).toEqual({ bindAddress: '10.0.3.7:80', url: 'http://10.0.3.7:80/metrics' });
    expect(parseMetricsAddress('[::]:9464')).toEqual({ bindAddress: '[::]:9464', url: 'http://[::1]:9464/metrics' });
    expect(parseMetricsAddress('[fd00::1]:9464').bindAddress).toBe('[fd00::1]:9464');
  });

  it('refuses a host name, which the exporter cannot bind, naming the variable and showing the form', () => {
    expect(() => parseMetricsAddress('localhost:9464')).toThrow(
      /^SLIPWAY_METRICS_ADDRESS="localhost:9464": "localhost" is not an IP address \(a host name cannot be bound\); give <IP address>:<port>, e\.g\. 0\.0\.0\.0:9464/,
    );
  });

  it.each([
    ['9464', /no port/],
    [':9464', /"" is not an IP address/],
    ['0.0.0.0', /no port/],
    ['0.0.0.0:', /port must be a number from 1 to 65535/],
    ['0.0.0.0:0', /port must be a number from 1 to 65535/],
    ['0.0.0.0:65536', /port must be a number from 1 to 65535/],
    ['0.0.0.0:9464x', /not a host:port address/],
    ['256.0.0.1:9464', /"256\.0\.0\.1" is not an IP address/],
    ['::1:9464', /not a host:port address/],
    ['[::1]9464', /not a host:port address/],
    ['[nope]:9464', /"nope" is not an IPv6 address/],
    ['http://0.0.0.0:9464', /not a host:port address/],
  ])('refuses %j', (text, why) => {
    expect(() => metricsAddressFromEnv({ SLIPWAY_METRICS_ADDRESS: text })).toThrow(why);
    expect(() => metricsAddressFromEnv({ SLIPWAY_METRICS_ADDRESS: text })).toThrow(/^SLIPWAY_METRICS_ADDRESS=/);
  });
});

describe('the exporter settings', () => {
  it('bind the address, name series as Prometheus does, and give each Slipway histogram its buckets', () => {
    const telemetry = metricsTelemetry(parseMetricsAddress('127.0.0.1:9464'));
    const prometheus = (telemetry.metrics as { prometheus: Record<string, unknown> }).prometheus;
    expect(prometheus).toMatchObject({ bindAddress: '127.0.0.1:9464', countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true });
    const histograms = SLIPWAY_METRICS.filter((m) => m.kind === 'histogram');
    expect(Object.keys(prometheus.histogramBucketOverrides as object).sort()).toEqual(histograms.map((m) => m.name).sort());
    // Bounds ascend: the exporter takes them as given.
    for (const bounds of Object.values(histogramBuckets())) expect([...bounds].sort((a, b) => a - b)).toEqual(bounds);
  });
});
