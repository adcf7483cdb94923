/**
 * URLs that may carry credentials — in their userinfo (`user:password@`) or in their query or
 * fragment (`?access_token=…`) — and how to show one without them. Used by the config check (which
 * refuses such URLs), by the HTTP check activity and by workflows for activity summaries, so it is
 * plain string work: no `URL` object, nothing the workflow sandbox lacks.
 */
import { REDACTED, redactSecretShapes } from './secret-shapes.js';

interface UrlParts {
  /** `https://`, or '' when the text has no scheme. */
  scheme: string;
  /** The userinfo without its `@`, or undefined. */
  userinfo?: string;
  /** From the host to the end of the path. */
  rest: string;
  /** `?…` or ''. */
  query: string;
  /** `#…` or ''. */
  fragment: string;
}

const SCHEME = /^([a-z][a-z0-9+.-]*:\/\/)/i;

function splitUrl(url: string): UrlParts {
  const scheme = SCHEME.exec(url)?.[1] ?? '';
  let body = url.slice(scheme.length);
  const hashAt = body.indexOf('#');
  const fragment = hashAt >= 0 ? body.slice(hashAt) : '';
  if (hashAt >= 0) body = body.slice(0, hashAt);
  const queryAt = body.indexOf('?');
  const query = queryAt >= 0 ? body.slice(queryAt) : '';
  if (queryAt >= 0) body = body.slice(0, queryAt);
  // The authority ends at the first '/'; userinfo is what comes before its last '@'.
  const slashAt = body.indexOf('/');
  const authority = slashAt >= 0 ? body.slice(0, slashAt) : body;
  const atAt = scheme ? authority.lastIndexOf('@') : -1;
  if (atAt < 0) return { scheme, rest: body, query, fragment };
  return { scheme, userinfo: authority.slice(0, atAt), rest: body.slice(atAt + 1), query, fragment };
}

// Whole words that name a credential, and endings that do (`authtoken`, `apikey`, `x-amz-signature`).
const SECRET_WORDS = new Set(['key', 'sig', 'pwd', 'pass', 'auth', 'jwt', 'otp', 'session', 'sessionid', 'cookie']);
const SECRET_ENDINGS = ['token', 'secret', 'password', 'passwd', 'apikey', 'signature', 'credential', 'credentials', 'authorization'];

/** Whether a query parameter's name says its value is a credential (`token`, `api_key`, `X-Amz-Signature`, …). */
export function isSensitiveParam(name: string): boolean {
  let decoded = name;
  try {
    decoded = decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    /* keep it as written */
  }
  const words = decoded
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const joined = words.join('');
  return words.some((w) => SECRET_WORDS.has(w) || SECRET_ENDINGS.some((e) => w.endsWith(e))) || SECRET_ENDINGS.some((e) => joined.endsWith(e));
}

function params(section: string): Array<{ name: string; value?: string }> {
  return section
    .slice(1)
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq < 0 ? { name: pair } : { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
    });
}

function redactSection(section: string): string {
  if (!section) return section;
  const redacted = params(section).map(({ name, value }) => (value === undefined ? name : `${name}=${isSensitiveParam(name) && value ? REDACTED : value}`));
  return `${section[0]}${redacted.join('&')}`;
}

/**
 * The URL as it may be shown: userinfo replaced by `***`, the values of credential-named query and
 * fragment parameters replaced by `***`, and anything credential-shaped left in it too.
 */
export function redactUrl(url: string): string {
  const parts = splitUrl(url);
  const userinfo = parts.userinfo !== undefined ? `${REDACTED}@` : '';
  return redactSecretShapes(`${parts.scheme}${userinfo}${parts.rest}${redactSection(parts.query)}${redactSection(parts.fragment)}`);
}

/** Every credential the URL carries (userinfo parts and credential-named parameter values), as written and decoded. */
export function urlSecrets(url: string): string[] {
  const parts = splitUrl(url);
  const found: string[] = [];
  if (parts.userinfo) {
    const colon = parts.userinfo.indexOf(':');
    // A lone user name in an http(s) URL is a token; beside a password, or in ssh://git@, only a name.
    if (colon >= 0) found.push(parts.userinfo, parts.userinfo.slice(colon + 1));
    else if (/^https?:\/\/$/i.test(parts.scheme)) found.push(parts.userinfo);
  }
  for (const section of [parts.query, parts.fragment]) {
    for (const { name, value } of params(section)) if (value && isSensitiveParam(name)) found.push(value);
  }
  const withDecoded = found.flatMap((s) => {
    try {
      const decoded = decodeURIComponent(s.replace(/\+/g, ' '));
      return decoded === s ? [s] : [s, decoded];
    } catch {
      return [s];
    }
  });
  // Short values (`pass=1`) would blank out unrelated text wherever they occur.
  return withDecoded.filter((s) => s.length >= 4);
}

/** The userinfo of a scheme URL, percent-decoded: what git or fetch would send as Basic credentials. */
export function urlUserinfo(url: string): { user: string; password?: string } | undefined {
  const { userinfo } = splitUrl(url);
  if (userinfo === undefined) return undefined;
  const colon = userinfo.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return colon < 0 ? { user: decode(userinfo) } : { user: decode(userinfo.slice(0, colon)), password: decode(userinfo.slice(colon + 1)) };
}

/** The URL without its userinfo (what a program is given; the credentials travel another way). */
export function withoutUserinfo(url: string): string {
  const parts = splitUrl(url);
  if (parts.userinfo === undefined) return url;
  return `${parts.scheme}${parts.rest}${parts.query}${parts.fragment}`;
}

/**
 * Why a URL written in slipway.yaml must not be used as it is, or undefined when it is fine. It
 * names what is wrong, never the value. A user name without a password is not a credential
 * outside http(s) (`ssh://git@host/repo`); `queryTokens` also refuses credential-named parameters.
 */
export function urlCredentialProblem(url: string, options: { queryTokens?: boolean } = {}): string | undefined {
  const parts = splitUrl(url);
  if (parts.userinfo !== undefined) {
    const http = /^https?:\/\/$/i.test(parts.scheme);
    if (http || parts.userinfo.includes(':')) {
      return `expected a URL without credentials in it (found ${parts.userinfo.includes(':') ? 'user:password@' : 'a user name or token before @'}); credentials are given by environment variable, never written in slipway.yaml`;
    }
  }
  if (options.queryTokens) {
    for (const [section, what] of [[parts.query, 'query string'], [parts.fragment, 'fragment']] as const) {
      const sensitive = params(section).find(({ name, value }) => value && isSensitiveParam(name));
      if (sensitive) {
        return `expected no credentials in the URL's ${what} (found the parameter "${sensitive.name}"); credentials are given by environment variable, never written in slipway.yaml`;
      }
    }
  }
  return undefined;
}
