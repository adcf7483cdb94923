/**
 * infra/grafana/slipway-dashboard.json and infra/prometheus/slipway-alerts.yml query only what the
 * worker exports: every metric name in their PromQL is one of Slipway's (core/metrics.ts, as the
 * exporter names it) or one of the SDK's listed in SDK_METRICS_SHOWN (whose presence on a real
 * worker's endpoint test/integration/worker-metrics.test.ts checks). The dashboard's PromQL also
 * parses: promtool checks it, Grafana's variables replaced, as a rule file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exportedName, exportedSeries, SDK_METRICS_SHOWN, SLIPWAY_METRICS } from '../../core/metrics.js';

const PROMTOOL = process.env.SLIPWAY_PROMTOOL || '/usr/bin/promtool';

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ type: string; name: string; query: string | { query: string } }> };
}

const dashboard = JSON.parse(readFileSync('infra/grafana/slipway-dashboard.json', 'utf8')) as Dashboard;
const rules = parse(readFileSync('infra/prometheus/slipway-alerts.yml', 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords, labels, strings or durations. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const m of bare.matchAll(/(?<![\w$.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    if (!m[2] && !KEYWORDS.has(m[1]!.toLowerCase())) names.push(m[1]!);
  }
  return names;
}

/** Every PromQL expression of the dashboard: panel targets, and the metric a `label_values` variable reads. */
function dashboardExprs(): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}"`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) {
    const query = typeof v.query === 'string' ? v.query : v.query.query;
    const selector = /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1];
    expect(selector, `variable ${v.name} reads label values of a metric`).toBeDefined();
    out.push({ where: `variable ${v.name}`, expr: selector! });
  }
  return out;
}

/** What the worker's endpoint shows: Slipway's series, and the SDK's listed ones with their histogram series. */
const exported = new Set([
  ...SLIPWAY_METRICS.flatMap(exportedSeries),
  ...SDK_METRICS_SHOWN.flatMap((name) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]),
]);

const scratch = mkdtempSync(join(tmpdir(), 'slipway-dashboard-check-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('picking metric names out of PromQL', () => {
  it('finds selected metrics and skips functions, aggregations, labels, strings and durations', () => {
    expect(metricNames('histogram_quantile(0.9, sum by (le, app) (rate(foo_seconds_bucket{app=~"$app",x="a b"}[$__rate_interval])))')).toEqual(['foo_seconds_bucket']);
    expect(metricNames('time() - max by (app) (a_ts) > on (app) group_left (env) (b or on (app) 0 * c) unless d offset 5m')).toEqual(['a_ts', 'b', 'c', 'd']);
    expect(metricNames('sum without (instance) (up) > bool 1e3')).toEqual(['up']);
  });
});

describe('the Grafana dashboard', () => {
  const exprs = dashboardExprs();

  it('parses, and queries something in every panel that is not a row', () => {
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    expect(panels.length).toBeGreaterThan(8);
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it('names only metrics the worker exports', () => {
    const unknown = exprs.flatMap(({ where, expr }) => metricNames(expr).filter((n) => !exported.has(n)).map((n) => `${where}: ${n}`));
    expect(unknown).toEqual([]);
  });

  it('shows every one of Slipway’s metrics, and exactly the SDK metrics SDK_METRICS_SHOWN lists', () => {
    const used = new Set(exprs.flatMap(({ expr }) => metricNames(expr)));
    for (const m of SLIPWAY_METRICS) expect(exportedSeries(m).some((s) => used.has(s)), exportedName(m)).toBe(true);
    const sdk = new Set([...used].filter((n) => n.startsWith('temporal_')).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    expect([...sdk].sort()).toEqual([...SDK_METRICS_SHOWN].sort());
  });

  it('holds PromQL that Prometheus parses, with Grafana’s variables in place', () => {
    const grafana = (expr: string) =>
      expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1d').replaceAll('$app', '.*').replaceAll('$environment', '.*');
    const file = join(scratch, 'dashboard-as-rules.yml');
    const asRules = { groups: [{ name: 'dashboard', rules: exprs.map(({ expr }, i) => ({ record: `dashboard:expr_${i}`, expr: grafana(expr) })) }] };
    writeFileSync(file, JSON.stringify(asRules));
    expect(execFileSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8', timeout: 30_000 })).toMatch(/SUCCESS: \d+ rules found/);
  });
});

describe('the alert rules', () => {
  it('name only metrics the worker exports', () => {
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert).sort()).toEqual(['SlipwayBackupStale', 'SlipwayEnvironmentUnhealthyAfterRollback']);
    const unknown = all.flatMap((r) => metricNames(r.expr).filter((n) => !exported.has(n)).map((n) => `${r.alert}: ${n}`));
    expect(unknown).toEqual([]);
  });
});
