/**
 * A metric query's {{variables}} as plain code: where a variable may stand, and that no value —
 * a version is whatever a release's caller gave — can change the query's shape. The escaping is
 * checked property-based (fast-check) against an unquoter written here from Go's string rules,
 * which Prometheus' PromQL parser follows, and against JavaScript's regex engine for matchers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeRegex, parseTemplate, render, renderTemplate, variablesOf, type TemplatePart } from '../../core/promql-template.js';

function parts(template: string): TemplatePart[] {
  const parsed = parseTemplate(template);
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  return parsed.parts;
}

function problems(template: string): string[] {
  const parsed = parseTemplate(template);
  return 'problems' in parsed ? parsed.problems : [];
}

function rendered(template: string, values: Record<string, string>): string {
  const result = render(template, values);
  if ('missing' in result) throw new Error(`missing ${result.missing.join(', ')}`);
  return result.query;
}

/**
 * The PromQL text split as the PromQL lexer splits it: code, and string literals with their
 * content unquoted by Go's rules (\\ \" \' \n \r \t \xHH and the like; a raw newline ends nothing
 * and is refused). Independent of the module under test.
 */
function lex(query: string): { code: string; strings: Array<{ quote: string; value: string }> } {
  let code = '';
  const strings: Array<{ quote: string; value: string }> = [];
  for (let i = 0; i < query.length; ) {
    const c = query[i]!;
    if (c !== '"' && c !== "'") {
      code += c;
      i++;
      continue;
    }
    let value = '';
    i++;
    for (;;) {
      if (i >= query.length) throw new Error('unterminated string');
      const d = query[i]!;
      if (d === '\n') throw new Error('raw newline in a string');
      if (d === c) {
        i++;
        break;
      }
      if (d === '\\') {
        const e = query[i + 1];
        const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\' };
        if (e !== undefined && e in simple) {
          value += simple[e];
          i += 2;
        } else if (e === c) {
          value += c;
          i += 2;
        } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(query.slice(i + 2, i + 4))) {
          value += String.fromCharCode(parseInt(query.slice(i + 2, i + 4), 16));
          i += 4;
        } else throw new Error(`invalid escape \\${e} in a ${c}-string`);
        continue;
      }
      value += d;
      i++;
    }
    strings.push({ quote: c, value });
  }
  return { code, strings };
}

/**
 * Any text, weighted towards what PromQL strings and regexes treat specially (uniform code points
 * would almost never hold a quote); every code point but lone surrogates (checked on their own).
 */
const special = fc.constantFrom('"', "'", '`', '\\', '\n', '\r', '\t', '\x00', '\x1b', '\x7f', '#', '.', '*', '+', '?', '^', '$', '|', '(', ')', '[', ']', '{', '}', '=', '~', ',', ' ');
const anyText = fc.string({ unit: fc.oneof(special, fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('a', '1', '-')), maxLength: 30 });

describe('metric query variables', () => {
  it('finds each variable inside quoted label values, plain and regex', () => {
    const template = `sum(rate(http_requests_total{app="{{app}}", version=~'{{ version }}', code=~"5.."}[1m])) # per {{environment}}?`;
    expect(problems(template)).toEqual(['{{environment}} must stand inside a quoted label value, e.g. environment="{{environment}}"']);
    const ok = parts(`sum(rate(x{app="{{app}}", version=~'{{ version }}', ns!~"{{namespace}}-.*"}[1m]))`);
    expect(variablesOf(ok)).toEqual(['app', 'version', 'namespace']);
    expect(ok.filter((p) => 'variable' in p)).toEqual([
      { variable: 'app', quote: '"', regex: false },
      { variable: 'version', quote: "'", regex: true },
      { variable: 'namespace', quote: '"', regex: true },
    ]);
  });

  it('refuses unknown variables, variables outside strings, in raw strings or comments, and unclosed strings', () => {
    expect(problems('x{app="{{application}}"}')).toEqual([expect.stringMatching(/^unknown variable \{\{application\}\}: expected one of \{\{app\}\}, /)]);
    expect(problems('x{app="{{}}"}')).toEqual([expect.stringMatching(/^unknown variable \{\{\}\}/)]);
    expect(problems('x{app={{app}}}')).toEqual(['{{app}} must stand inside a quoted label value, e.g. app="{{app}}"']);
    expect(problems('x{app=`{{app}}`}')).toEqual([expect.stringContaining('raw string')]);
    expect(problems('x # "{{app}}"')).toEqual([expect.stringContaining('must stand inside a quoted label value')]);
    expect(problems('x{app="{{app}}}')).toEqual(['a string opened with " is never closed']);
    // An escaped quote does not end the string; the variable after it is still inside.
    expect(problems(String.raw`x{app="a\"{{app}}"}`)).toEqual([]);
  });

  it('names the variables that have no value (no previous build) instead of rendering', () => {
    expect(render('x{v="{{previousVersion}}", c="{{previousCommit}}", a="{{app}}"}', { app: 'shop' })).toEqual({ missing: ['previousVersion', 'previousCommit'] });
    expect(render('x{a="{{app}}", b="{{app}}"}', { app: 'shop' })).toEqual({ query: 'x{a="shop", b="shop"}' });
  });

  it('keeps a hostile version inside its label value', () => {
    const query = rendered('sum(x{version="{{version}}"})', { version: '1.0"} or vector(1) # \\' });
    expect(query).toBe(String.raw`sum(x{version="1.0\"} or vector(1) # \\"})`);
    expect(lex(query)).toEqual({ code: 'sum(x{version=})', strings: [{ quote: '"', value: '1.0"} or vector(1) # \\' }] });
    expect(rendered('x{v=~"{{version}}"}', { version: '1.*' })).toBe(String.raw`x{v=~"1\\.\\*"}`);
  });

  it('gives back, for any value in a "…" or \'…\' string, exactly that value and nothing outside the string', () => {
    fc.assert(
      fc.property(anyText, fc.constantFrom('"', "'"), anyText.filter((t) => !/["'`#{}\\\x00-\x1f\x7f]/.test(t)), (value, quote, prefix) => {
        const template = `sum(m{${prefix ? 'x' : ''}l=${quote}${prefix}{{version}}${quote}}) > 0`;
        const query = rendered(template, { version: value });
        const { code, strings } = lex(query);
        expect(code).toBe(`sum(m{${prefix ? 'x' : ''}l=}) > 0`);
        expect(strings).toEqual([{ quote, value: `${prefix}${value}` }]);
      }),
    );
  });

  it('matches, in a regex matcher, exactly the value and no other text', () => {
    fc.assert(
      fc.property(anyText, anyText, fc.constantFrom('=~', '!~'), (value, other, op) => {
        const query = rendered(`m{l${op} "{{commit}}"}`, { commit: value });
        const { strings } = lex(query);
        expect(strings).toHaveLength(1);
        // Prometheus anchors the regex: ^(?:…)$. RE2 and JavaScript read these escapes alike.
        const regex = new RegExp(`^(?:${strings[0]!.value})$`, 'u');
        expect(regex.test(value)).toBe(true);
        if (other !== value) expect(regex.test(other)).toBe(false);
      }),
    );
    expect(escapeRegex('a.b*c')).toBe(String.raw`a\.b\*c`);
  });

  it('turns a lone UTF-16 surrogate, which is not text, into U+FFFD instead of sending it', () => {
    const query = rendered('m{l="{{version}}"}', { version: 'a\ud800b' });
    expect(lex(query).strings[0]!.value).toBe('a\ufffdb');
  });

  it('renders the parts it parsed the same way the one-step render does', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const template = 'm{a="{{app}}", e=~\'{{environment}}\'}';
        expect(renderTemplate(parts(template), { app: value, environment: value })).toEqual(render(template, { app: value, environment: value }));
      }),
    );
  });
});
