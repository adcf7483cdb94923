/**
 * Metric checks in slipway.yaml, through the real parser: defaults, and every mistake reported
 * with its field path and line before anything runs.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/schema.js';

const QUERY = `sum(rate(http_requests_total{app="{{app}}",version="{{version}}",code=~"5.."}[1m])) / sum(rate(http_requests_total{app="{{app}}",version="{{version}}"}[1m]))`;

/** A policy whose staging has one metric check with these fields (YAML flow-map entries). */
function withCheck(fields: string, environmentExtra = ''): string {
  return `
gitops: { url: "file:///srv/gitops.git" }
apps:
  todoapp:
    images: [todoapp/web]
    environments:
      - name: staging
        overlay: overlays/staging
        argocd: { application: todoapp-staging }${environmentExtra}
        checks:
          - soak: 1m
          - metric:
              ${fields.trim().split('\n').join('\n              ')}
`;
}

const GOOD = `prometheus: http://prometheus.monitoring:9090
query: '${QUERY}'
condition: "< 0.01"`;

function problemsOf(text: string): ConfigError['problems'] {
  try {
    parseConfig(text, 'slipway.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

const CHECK = 'apps.todoapp.environments[0].checks[1].metric';

describe('metric checks in slipway.yaml', () => {
  it('fills the defaults: every 10s for 1m, no failures allowed, no data fails, 5s per request, 2 unanswered rounds', () => {
    const check = parseConfig(withCheck(GOOD), 'slipway.yaml').apps.todoapp!.environments[0]!.checks[1];
    expect(check).toEqual({
      metric: {
        prometheus: 'http://prometheus.monitoring:9090',
        query: QUERY,
        condition: '< 0.01',
        interval: 10_000,
        for: 60_000,
        failuresAllowed: 0,
        noData: 'fail',
        timeout: 5_000,
        unavailableAllowed: 2,
      },
    });
  });

  it('takes every field, and {{namespace}} where the environment names its namespace', () => {
    const fields = `name: error rate
prometheus: https://prometheus.example/prom
tokenFromEnv: PROMETHEUS_TOKEN
query: 'sum(rate(errors{namespace="{{namespace}}",version=~"{{version}}|{{previousVersion}}"}[1m]))'
condition: between 0 and 0.5
interval: 5s
for: 30s
failuresAllowed: 2
noData: wait
timeout: 2s
unavailableAllowed: 0`;
    const config = parseConfig(withCheck(fields, '\n        namespace: todo-staging'), 'slipway.yaml');
    const env = config.apps.todoapp!.environments[0]!;
    expect(env.namespace).toBe('todo-staging');
    expect(env.checks[1]).toMatchObject({ metric: { name: 'error rate', tokenFromEnv: 'PROMETHEUS_TOKEN', interval: 5000, for: 30_000, failuresAllowed: 2, noData: 'wait', timeout: 2000, unavailableAllowed: 0 } });
  });

  it('names the field and line of a bad condition, an unknown or unquoted variable, and {{namespace}} without a namespace', () => {
    expect(problemsOf(withCheck(GOOD.replace('"< 0.01"', '"<< 0.01"')))).toEqual([
      { path: `${CHECK}.condition`, line: 15, message: expect.stringMatching(/^expected a condition like "< 0\.01", .* got "<< 0\.01"$/) },
    ]);
    expect(problemsOf(withCheck(GOOD.replace('{{version}}', '{{release}}')))).toEqual([
      { path: `${CHECK}.query`, line: 14, message: expect.stringMatching(/^unknown variable \{\{release\}\}: expected one of \{\{app\}\}, \{\{environment\}\}, \{\{version\}\}, \{\{commit\}\}, \{\{namespace\}\}, \{\{previousVersion\}\}, \{\{previousCommit\}\}$/) },
    ]);
    expect(problemsOf(withCheck(GOOD.replace('app="{{app}}"', 'app={{app}}')))).toEqual([
      { path: `${CHECK}.query`, line: 14, message: '{{app}} must stand inside a quoted label value, e.g. app="{{app}}"' },
    ]);
    expect(problemsOf(withCheck(GOOD.replace('app="{{app}}"', 'namespace="{{namespace}}"')))).toEqual([
      { path: `${CHECK}.query`, line: 14, message: "{{namespace}} needs the environment's namespace (namespace: <name> beside argocd)" },
    ]);
  });

  it('refuses an interval longer than for, shorter than 1s, a request longer than its round, and a check that could never fail', () => {
    expect(problemsOf(withCheck(`${GOOD}\ninterval: 2m\nfor: 1m`))).toEqual([{ path: `${CHECK}.interval`, line: 16, message: 'interval 2m is longer than for 1m: not one round would fit' }]);
    expect(problemsOf(withCheck(`${GOOD}\ninterval: 500ms`))).toEqual([{ path: `${CHECK}.interval`, line: 16, message: 'expected at least 1s, got 500ms' }]);
    expect(problemsOf(withCheck(`${GOOD}\ninterval: 5s\ntimeout: 10s`))).toEqual([
      { path: `${CHECK}.timeout`, line: 17, message: 'timeout 10s is longer than interval 5s: a request must end within its round' },
    ]);
    expect(problemsOf(withCheck(`${GOOD}\nfailuresAllowed: 6`))).toEqual([
      { path: `${CHECK}.failuresAllowed`, line: 16, message: '6 of 6 rounds may fail: the check could never fail on its value' },
    ]);
    expect(problemsOf(withCheck(`${GOOD}\nnoData: ignore`))).toEqual([expect.objectContaining({ path: `${CHECK}.noData`, line: 16 })]);
  });

  it('refuses credentials in the Prometheus URL without echoing them, and anything but http(s)', () => {
    const problems = problemsOf(withCheck(GOOD.replace('http://prometheus', 'https://admin:hunter22@prometheus')));
    expect(problems).toEqual([{ path: `${CHECK}.prometheus`, line: 13, message: expect.stringMatching(/without credentials/) }]);
    expect(JSON.stringify(problems)).not.toContain('hunter22');
    const tokenInQuery = problemsOf(withCheck(GOOD.replace('9090', '9090/?access_token=s3cr3t-value')));
    expect(tokenInQuery).toEqual([{ path: `${CHECK}.prometheus`, line: 13, message: expect.stringMatching(/no credentials in the URL/) }]);
    expect(JSON.stringify(tokenInQuery)).not.toContain('s3cr3t-value');
    expect(problemsOf(withCheck(GOOD.replace('http://', 'file://')))).toEqual([{ path: `${CHECK}.prometheus`, line: 13, message: 'expected an http(s) URL' }]);
  });

  it('reports a mistake inside any kind of check at its own field, and an entry that is not one kind of check as such', () => {
    expect(problemsOf(withCheck(`${GOOD}\nfailuresAllowed: "none"`))).toEqual([{ path: `${CHECK}.failuresAllowed`, line: 16, message: expect.stringMatching(/expected number/) }]);
    const http = withCheck(GOOD).replace('- soak: 1m', '- http: { url: "https://staging.example/healthz", expectStatus: "ok" }');
    expect(problemsOf(http)).toEqual([{ path: 'apps.todoapp.environments[0].checks[0].http.expectStatus', line: 11, message: expect.stringMatching(/expected number/) }]);
    const both = withCheck(GOOD).replace('- soak: 1m', '- { soak: 1m, http: { url: "https://staging.example/healthz" } }');
    expect(problemsOf(both)).toEqual([{ path: 'apps.todoapp.environments[0].checks[0]', line: 11, message: 'expected one check: { soak: … }, { http: … } or { metric: … }' }]);
  });

  it('refuses unknown fields and a token variable that is not a variable name', () => {
    expect(problemsOf(withCheck(`${GOOD}\ntoken: abc`))).toEqual([expect.objectContaining({ path: CHECK, message: expect.stringContaining('"token"') })]);
    expect(problemsOf(withCheck(`${GOOD}\ntokenFromEnv: "not a name"`))).toEqual([expect.objectContaining({ path: `${CHECK}.tokenFromEnv`, line: 16 })]);
  });
});
