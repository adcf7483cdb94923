/**
 * A metric check's PromQL with the release's variables in it: `{{app}}`, `{{environment}}`,
 * `{{version}}`, `{{commit}}`, `{{namespace}}`, `{{previousVersion}}`, `{{previousCommit}}`.
 *
 * Some values come from the request (a release's version is whatever its caller gave), so a value
 * must never change the query's shape. A variable may therefore stand only inside a quoted string
 * (`version="{{version}}"`, `'…'`), where its value is escaped for that string, and, in the value
 * of a regex matcher (`=~"…"`, `!~"…"`), also escaped as a regex so it matches itself and nothing
 * else. Outside a string, in a comment or in a raw `` `…` `` string (which cannot escape) it is
 * refused when the file is read. Pure, no I/O.
 */

export const METRIC_VARIABLES = ['app', 'environment', 'version', 'commit', 'namespace', 'previousVersion', 'previousCommit'] as const;
export type MetricVariable = (typeof METRIC_VARIABLES)[number];
export type MetricVariables = Partial<Record<MetricVariable, string>>;

const REFERENCE = /\{\{([^{}]*)\}\}/g;

/** One piece of a template: literal PromQL, or a variable inside a string with how to escape it. */
export type TemplatePart = { text: string } | { variable: MetricVariable; quote: '"' | "'"; regex: boolean };

/** The template in pieces, or the problems with it (each a sentence naming the variable). */
export function parseTemplate(template: string): { parts: TemplatePart[] } | { problems: string[] } {
  const parts: TemplatePart[] = [];
  const problems: string[] = [];
  let literal = '';
  const flush = () => {
    if (literal) parts.push({ text: literal });
    literal = '';
  };
  // Where the scanner is: in plain PromQL, a comment, or a string opened by this quote.
  let state: { in: 'code' } | { in: 'comment' } | { in: 'string'; quote: '"' | "'" | '`'; regex: boolean } = { in: 'code' };
  for (let i = 0; i < template.length; ) {
    REFERENCE.lastIndex = i;
    const ref = template.startsWith('{{', i) ? REFERENCE.exec(template) : null;
    if (ref && ref.index === i) {
      const name = ref[1]!.trim();
      if (!(METRIC_VARIABLES as readonly string[]).includes(name)) {
        problems.push(`unknown variable {{${name}}}: expected one of ${METRIC_VARIABLES.map((v) => `{{${v}}}`).join(', ')}`);
      } else if (state.in === 'string' && state.quote !== '`') {
        flush();
        parts.push({ variable: name as MetricVariable, quote: state.quote, regex: state.regex });
      } else if (state.in === 'string') {
        problems.push(`{{${name}}} is in a raw string (\`…\`), where its value cannot be escaped: use "…"`);
      } else {
        problems.push(`{{${name}}} must stand inside a quoted label value, e.g. ${name}="{{${name}}}"`);
      }
      i += ref[0].length;
      continue;
    }
    const c = template[i]!;
    literal += c;
    i++;
    if (state.in === 'comment') {
      if (c === '\n') state = { in: 'code' };
    } else if (state.in === 'string') {
      if (c === '\\' && state.quote !== '`' && i < template.length) {
        literal += template[i]!;
        i++;
      } else if (c === state.quote) {
        state = { in: 'code' };
      }
    } else if (c === '#') {
      state = { in: 'comment' };
    } else if (c === '"' || c === "'" || c === '`') {
      state = { in: 'string', quote: c, regex: /[=!]~\s*$/.test(literal.slice(0, -1)) };
    }
  }
  flush();
  if (state.in === 'string') problems.push(`a string opened with ${state.quote} is never closed`);
  return problems.length > 0 ? { problems } : { parts };
}

/** The variables a template uses, in order of first use. */
export function variablesOf(parts: TemplatePart[]): MetricVariable[] {
  return [...new Set(parts.flatMap((p) => ('variable' in p ? [p.variable] : [])))];
}

/** The query with every variable's value in place, or the variables that have no value. */
export function renderTemplate(parts: TemplatePart[], values: MetricVariables): { query: string } | { missing: MetricVariable[] } {
  const missing = variablesOf(parts).filter((v) => values[v] === undefined);
  if (missing.length > 0) return { missing };
  const query = parts
    .map((p) => ('text' in p ? p.text : escapeStringContent(p.regex ? escapeRegex(values[p.variable]!) : values[p.variable]!, p.quote)))
    .join('');
  return { query };
}

/** For callers whose template was validated already (the config schema did): the query or the missing variables. */
export function render(template: string, values: MetricVariables): { query: string } | { missing: MetricVariable[] } {
  const parsed = parseTemplate(template);
  if ('problems' in parsed) throw new Error(parsed.problems.join('; '));
  return renderTemplate(parsed.parts, values);
}

/** Go regexp's QuoteMeta (Prometheus matches with RE2, fully anchored): every metacharacter escaped. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * The value as the content of a PromQL string in `quote` (Prometheus unquotes like Go): backslash
 * and that quote escaped, control characters as escapes, a lone UTF-16 surrogate (not text) as U+FFFD.
 */
export function escapeStringContent(value: string, quote: '"' | "'"): string {
  let out = '';
  // for…of walks code points; a lone surrogate comes out alone.
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) out += '\ufffd';
    else if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}
