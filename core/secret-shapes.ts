/**
 * Credentials recognised by their shape, whoever's they are: text Slipway did not write (a build's
 * output, a server's error) can hold a token no configuration names. Pure string work, so the
 * workflow sandbox can use it as well as the activities.
 */

/** What stands in for a removed secret. */
export const REDACTED = '***';

interface Shape {
  name: string;
  pattern: RegExp;
  /** The replacement (may keep a non-secret prefix with $1). */
  replace: string;
}

const SHAPES: Shape[] = [
  // Private keys first: their body is many lines that other shapes would only nibble at.
  { name: 'private key', pattern: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g, replace: `-----BEGIN $1PRIVATE KEY----- ${REDACTED}` },
  { name: 'GitHub token', pattern: /gh[pousr]_[A-Za-z0-9]{16,}/g, replace: REDACTED },
  { name: 'GitHub fine-grained token', pattern: /github_pat_[A-Za-z0-9_]{16,}/g, replace: REDACTED },
  { name: 'GitLab token', pattern: /glpat-[A-Za-z0-9_-]{16,}/g, replace: REDACTED },
  { name: 'Slack token', pattern: /xox[abposr]-[A-Za-z0-9-]{10,}/g, replace: REDACTED },
  { name: 'AWS access key id', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])/g, replace: REDACTED },
  {
    name: 'AWS secret',
    pattern: /\b(aws_secret_access_key|aws_session_token|secret_access_key|secretaccesskey)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}/gi,
    replace: `$1$2${REDACTED}`,
  },
  { name: 'JSON web token', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, replace: REDACTED },
  // An Authorization header, whatever its scheme: the scheme stays, the credential goes.
  {
    name: 'authorization header',
    pattern: /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(basic|bearer|token|digest|negotiate)\s+)?[^\s"',;]+/gi,
    replace: `$1$2 ${REDACTED}`,
  },
  { name: 'bearer credential', pattern: /\b(bearer)\s+[A-Za-z0-9._~+/-]{8,}=*/gi, replace: `$1 ${REDACTED}` },
  // user:password@ in any URL, and any userinfo in http(s) URLs (there it is a token or a password).
  { name: 'URL with a password', pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:'"]+:[^\s/@]*@/gi, replace: `$1${REDACTED}@` },
  { name: 'http URL userinfo', pattern: /\b(https?:\/\/)[^\s/@:'"]+@/gi, replace: `$1${REDACTED}@` },
  { name: 'webhook secret', pattern: /(\/api\/webhooks\/\d+\/)[A-Za-z0-9_-]{16,}/g, replace: `$1${REDACTED}` },
];

/** Replaces every credential-shaped part of `text` with `***`, keeping the text around it. */
export function redactSecretShapes(text: string): string {
  let out = text;
  for (const shape of SHAPES) out = out.replace(shape.pattern, shape.replace);
  // A scheme with no credential after it ("Authorization: ***") leaves a doubled space; tidy it.
  return out.replace(/ {2}\*\*\*/g, ` ${REDACTED}`);
}

/**
 * Replaces every occurrence of each value. Occurrences are found in the original text and merged
 * before anything is replaced, so two secrets that overlap (one's end is another's start) both go
 * whole instead of the first replacement leaving part of the second.
 */
export function redactValues(text: string, values: Iterable<string>): string {
  const spans: Array<[number, number]> = [];
  for (const value of new Set(values)) {
    if (!value) continue;
    for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) spans.push([at, at + value.length]);
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of spans) {
    const last = merged.at(-1);
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  let out = '';
  let done = 0;
  for (const [start, end] of merged) {
    out += `${text.slice(done, start)}${REDACTED}`;
    done = end;
  }
  return out + text.slice(done);
}
