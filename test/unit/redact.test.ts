/**
 * Taking secrets out of text that leaves the worker: credential shapes, URLs shown in summaries
 * and messages, and a build's output tail redacted with the worker's environment. Examples, and
 * properties over generated output (fast-check; SLIPWAY_PROPERTY_SEED=<seed> replays a failure).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputTail } from '../../activities/build/output-tail.js';
import { createOutputRedactor, secretValuesFromEnv } from '../../activities/build/redact-output.js';
import { isSensitiveParam, redactUrl, urlCredentialProblem, urlSecrets, urlUserinfo, withoutUserinfo } from '../../core/redact-url.js';
import { redactSecretShapes } from '../../core/secret-shapes.js';

const seed = process.env.SLIPWAY_PROPERTY_SEED ? Number(process.env.SLIPWAY_PROPERTY_SEED) : undefined;
const runs = { numRuns: 300, ...(seed !== undefined ? { seed } : {}) };

describe('redactSecretShapes', () => {
  it('removes tokens, keys, Authorization values and URL credentials, and keeps the words around them', () => {
    const cases: Array<[string, string]> = [
      ['pushing with ghp_0123456789abcdefABCDEF0123456789abcd now', 'pushing with *** now'],
      ['token github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', 'token ***'],
      ['AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', 'AWS_ACCESS_KEY_ID=***'],
      ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = ***'],
      ['> Authorization: Bearer abc.def-ghi_jkl', '> Authorization: Bearer ***'],
      ['-H "Authorization: Basic eC1hY2Nlc3MtdG9rZW46Z2hw"', '-H "Authorization: Basic ***"'],
      ['curl -H "authorization: s3cr3tvalue"', 'curl -H "authorization: ***"'],
      ['fatal: unable to access https://bot:hunter22@git.example/o/r.git', 'fatal: unable to access https://***@git.example/o/r.git'],
      ['https://ghp_short@github.com/o/r', 'https://***@github.com/o/r'],
      ['postgres://app:pw-123@db:5432/app', 'postgres://***@db:5432/app'],
      ['POST /api/webhooks/1234/abcdefghijklmnopqrstuvwxyz0123', 'POST /api/webhooks/1234/***'],
      ['session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'session ***'],
    ];
    for (const [text, expected] of cases) expect(redactSecretShapes(text)).toBe(expected);
  });

  it('removes a private key block whole, and one cut off before its end', () => {
    const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA PRIVATE KEY-----';
    expect(redactSecretShapes(`before\n${key}\nafter`)).toBe('before\n-----BEGIN RSA PRIVATE KEY----- ***\nafter');
    expect(redactSecretShapes(`before\n${key.slice(0, 80)}`)).toBe('before\n-----BEGIN RSA PRIVATE KEY----- ***');
  });

  it('leaves ordinary text, ssh users and URLs without credentials alone', () => {
    for (const text of [
      'git@github.com:org/repo.git and ssh://git@github.com/org/repo',
      'https://staging.example/healthz?region=eu',
      'Step 3/9 : RUN npm ci --omit=dev',
      'bearer of bad news', // "bearer" followed by a short word is not a credential
    ]) {
      expect(redactSecretShapes(text)).toBe(text);
    }
  });
});

describe('redactUrl', () => {
  it('hides userinfo and the values of credential-named parameters, keeping the rest readable', () => {
    expect(redactUrl('https://probe:pa55word@staging.example/healthz?token=abc123&region=eu')).toBe('https://***@staging.example/healthz?token=***&region=eu');
    expect(redactUrl('https://x.example/h?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA%2F20240101&X-Amz-Expires=60')).toBe(
      'https://x.example/h?X-Amz-Signature=***&X-Amz-Credential=***&X-Amz-Expires=60',
    );
    expect(redactUrl('https://x.example/cb#access_token=abcdef&state=1')).toBe('https://x.example/cb#access_token=***&state=1');
    expect(redactUrl('https://x.example/h?apiKey=1&key=2&sig=3&keyword=kept')).toBe('https://x.example/h?apiKey=***&key=***&sig=***&keyword=kept');
    expect(redactUrl('https://x.example/healthz')).toBe('https://x.example/healthz');
    // Not a URL the parser knows: still nothing credential-shaped in what comes out.
    expect(redactUrl('not a url ghp_0123456789abcdefABCDEF0123456789abcd')).toBe('not a url ***');
  });

  it('names parameters that hold credentials', () => {
    for (const name of ['token', 'access_token', 'id_token', 'authToken', 'api_key', 'apikey', 'X-Amz-Signature', 'client_secret', 'password', 'sig', 'key', 'AUTH'])
      expect(isSensitiveParam(name), name).toBe(true);
    for (const name of ['region', 'keyword', 'monkeys', 'page', 'q', 'env', 'status']) expect(isSensitiveParam(name), name).toBe(false);
  });

  it('finds the credentials a URL carries, as written and decoded, and gives the URL without them', () => {
    expect(urlSecrets('https://bot:p%40ss-word@h.example/?token=t0k%2Fen&x=1').sort()).toEqual(['bot:p%40ss-word', 'bot:p@ss-word', 'p%40ss-word', 'p@ss-word', 't0k%2Fen', 't0k/en'].sort());
    expect(urlSecrets('ssh://deploy@h.example/repo.git')).toEqual([]);
    expect(urlUserinfo('https://bot:p%40ss@h.example/r')).toEqual({ user: 'bot', password: 'p@ss' });
    expect(urlUserinfo('https://ghp_abc@h.example/r')).toEqual({ user: 'ghp_abc' });
    expect(urlUserinfo('https://h.example/r?u=a@b')).toBeUndefined();
    expect(withoutUserinfo('https://bot:pw@h.example:8443/r.git?x=1')).toBe('https://h.example:8443/r.git?x=1');
    expect(withoutUserinfo('/srv/gitops.git')).toBe('/srv/gitops.git');
  });

  it('says what is wrong with a URL written with credentials, without repeating them', () => {
    const problem = urlCredentialProblem('https://bot:hunter22@git.example/r.git')!;
    expect(problem).toMatch(/without credentials.*user:password@/);
    expect(problem).not.toContain('hunter22');
    expect(urlCredentialProblem('https://ghp_abcdef@github.com/o/r')).toMatch(/user name or token/);
    expect(urlCredentialProblem('ssh://git@github.com/o/r.git')).toBeUndefined();
    expect(urlCredentialProblem('git@github.com:o/r.git')).toBeUndefined();
    expect(urlCredentialProblem('file:///srv/gitops.git')).toBeUndefined();
    expect(urlCredentialProblem('https://h.example/healthz?token=abc')).toBeUndefined();
    const query = urlCredentialProblem('https://h.example/healthz?token=abc', { queryTokens: true })!;
    expect(query).toMatch(/query string.*"token"/);
    expect(query).not.toContain('abc');
  });

  it('property: no generated credential survives, whatever the URL around it', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    const secret = fc.stringMatching(/^[A-Z0-9]{8,24}$/).map((s) => `S${s}`);
    fc.assert(
      fc.property(
        fc.constantFrom('http://', 'https://'),
        fc.option(secret, { nil: undefined }),
        secret,
        word,
        fc.array(word, { maxLength: 3 }),
        fc.constantFrom('token', 'access_token', 'api_key', 'X-Amz-Signature', 'password', 'sig'),
        fc.array(fc.tuple(fc.constantFrom('region', 'page', 'env'), word), { maxLength: 3 }),
        (scheme, user, password, host, path, param, others) => {
          const userinfo = user ? `${user}:${password}@` : `${password}@`;
          const tokenValue = `${password}Q`;
          const query = [...others.map(([k, v]) => `${k}=${v}`), `${param}=${tokenValue}`].join('&');
          const url = `${scheme}${userinfo}${host}.example/${path.join('/')}?${query}`;
          const shown = redactUrl(url);
          // Generated secrets are the only upper-case text in the URL: none may be left.
          expect(shown).not.toMatch(/[A-Z]{2,}|S[A-Z0-9]{8}/);
          expect(shown.startsWith(`${scheme}***@${host}.example/`)).toBe(true);
          for (const [k, v] of others) expect(shown).toContain(`${k}=${v}`);
        },
      ),
      runs,
    );
  });
});

describe('secretValuesFromEnv', () => {
  it('takes the values of credential-named variables and the passwords in URL-valued ones', () => {
    const values = secretValuesFromEnv({
      GITHUB_TOKEN: 'ghp_value123',
      REGISTRY_PASSWORD: 'p@ss word!',
      DATABASE_URL: 'postgres://app:db-pass-1@db/app',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI',
      SSH_PRIVATE_KEY: 'line-one-of-key\nline-two-of-key',
      SHORT_TOKEN: 'abc',
      HOME: '/root',
      BUILD_FLAVOUR: 'release-candidate',
    });
    expect(values).toEqual(
      expect.arrayContaining(['ghp_value123', 'p@ss word!', encodeURIComponent('p@ss word!'), 'db-pass-1', 'wJalrXUtnFEMI', 'line-one-of-key', 'line-two-of-key']),
    );
    expect(values).not.toContain('abc');
    expect(values).not.toContain('/root');
    expect(values).not.toContain('release-candidate');
  });
});

describe('a build output tail, redacted', () => {
  const env = { RELEASE_TOKEN: 'RT0KEN9XYZ42ABCDEFGH', DB_PASSWORD: 'DBPASS77QWERTY' };

  it('keeps the last lines, every secret replaced', () => {
    const tail = new OutputTail();
    tail.push('step 1\nlogin RT0KEN9XYZ42ABCDEFGH ok\n');
    tail.push('connect DBPA');
    tail.push('SS77QWERTY failed\nghp_0123456789abcdefABCDEF0123456789abcd\n');
    expect(tail.lastLines(3, createOutputRedactor(env))).toBe('login *** ok\nconnect *** failed\n***');
  });

  it('property: no character of a secret is left, however the output is chunked and cut', () => {
    // Secrets are upper case and digits; everything else the build prints is lower case. So the
    // property is simply: no upper-case letter or digit in the tail.
    const secretArb = fc.stringMatching(/^[A-Z0-9]{6,40}$/);
    const filler = fc.stringMatching(/^[a-z .,:=\n-]{0,60}$/);
    fc.assert(
      fc.property(
        fc.uniqueArray(secretArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(filler, fc.nat()), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 40, max: 400 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
        (secrets, pieces, lines, maxChars, chunkSizes) => {
          const workerEnv = Object.fromEntries(secrets.map((s, i) => [`SECRET_${i}`, s]));
          // The output: filler with secrets dropped in (a number picks which secret goes there).
          const output = pieces.map((p) => (typeof p === 'number' ? secrets[p % secrets.length] : p)).join('');
          const tail = new OutputTail(maxChars);
          for (let at = 0, i = 0; at < output.length; i++) {
            const size = chunkSizes[i % chunkSizes.length]!;
            tail.push(output.slice(at, at + size));
            at += size;
          }
          const shown = tail.lastLines(lines, createOutputRedactor(workerEnv));
          expect(shown).not.toMatch(/[A-Z0-9]/);
          expect(shown.split('\n').length).toBeLessThanOrEqual(lines);
        },
      ),
      runs,
    );
  });

  it('property: output without secrets is shown as it was, but for a partial first line after a cut', () => {
    const text = fc.stringMatching(/^[a-z .,:=\n-]{0,2000}$/);
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 100, max: 600 }), (output, lines, maxChars) => {
        const plain = new OutputTail(maxChars);
        const redacted = new OutputTail(maxChars);
        plain.push(output);
        redacted.push(output);
        const a = plain.lastLines(lines);
        const b = redacted.lastLines(lines, createOutputRedactor({}));
        if (output.length <= maxChars * 2) expect(b).toBe(a);
        else expect(a.endsWith(b)).toBe(true);
      }),
      runs,
    );
  });

  it('property: a generated token shape in the output never survives', () => {
    const ghToken = fc.stringMatching(/^[A-Za-z0-9]{36}$/).map((s) => `ghp_${s}`);
    const awsKey = fc.stringMatching(/^[A-Z0-9]{16}$/).map((s) => `AKIA${s}`);
    const bearer = fc.stringMatching(/^[A-Za-z0-9._~+/-]{12,80}$/).map((s) => `Authorization: Bearer ${s}`);
    const userinfo = fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[A-Za-z0-9!$&'()*+,;=._~-]{1,20}$/)).map(([u, p]) => `https://${u}:${p}@host.example/`);
    fc.assert(
      fc.property(fc.array(fc.oneof(ghToken, awsKey, bearer, userinfo), { minLength: 1, maxLength: 6 }), fc.stringMatching(/^[a-z ]{0,20}$/), (secrets, sep) => {
        const tail = new OutputTail();
        tail.push(secrets.join(`${sep}\n`));
        const shown = tail.lastLines(100, createOutputRedactor({}));
        for (const s of secrets) {
          const credential = s.startsWith('Authorization') ? s.slice('Authorization: Bearer '.length) : s.startsWith('https://') ? s.slice(8, s.indexOf('@') + 1) : s;
          expect(shown).not.toContain(credential);
        }
      }),
      runs,
    );
  });
});
