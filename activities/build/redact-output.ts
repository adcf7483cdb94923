/**
 * What a build printed, made fit for workflow history and notifications. A build command runs with
 * the worker's environment, and build tools print what they are given (a `set -x`, a failing
 * `curl -u`, a registry login's error); so before any of its output leaves the activity, the values
 * of the worker's credential-like environment variables are removed, and so is anything shaped
 * like a credential (tokens, keys, Authorization headers, user:password@ in URLs).
 */
import { redactSecretShapes, redactValues } from '../../core/secret-shapes.js';
import { urlSecrets } from '../../core/redact-url.js';

/** Environment variable names that say their value is a credential. */
export const SECRET_NAME = /TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|KEY|(?:^|_)AUTH(?:_|$)|AUTHORIZATION|(?:^|_)PAT(?:_|$)|WEBHOOK|COOKIE|SESSION|PRIVATE|(?:^|_)DSN(?:_|$)|SIGNATURE/i;

/** Shorter values are not removed: they would blank out unrelated words wherever they occur. */
export const MIN_SECRET_LENGTH = 6;

/** The secret values in an environment: credential-named variables, and the credentials of any URL-valued one. */
export function secretValuesFromEnv(env: NodeJS.ProcessEnv): string[] {
  const values = new Set<string>();
  const add = (value: string) => {
    if (value.length < MIN_SECRET_LENGTH) return;
    values.add(value);
    // Printed inside a URL or a form, a value shows up percent-encoded.
    const encoded = encodeURIComponent(value);
    if (encoded !== value) values.add(encoded);
  };
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_NAME.test(name)) {
      add(value.trim());
      // A multi-line value (a key file) is printed line by line as often as whole.
      if (value.includes('\n')) for (const line of value.split(/\r?\n/)) add(line.trim());
    }
    // DATABASE_URL and the like: the name says nothing, the password inside it is still one.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) for (const secret of urlSecrets(value)) add(secret);
  }
  return [...values];
}

export interface OutputRedactor {
  redact(text: string): string;
  /**
   * The longest text a secret can span that this redactor would recognise only whole. A tail cut
   * from a longer output may begin inside a secret; dropping this much of a cut-off first line
   * leaves no fragment of one.
   */
  readonly span: number;
}

/** Credential shapes (tokens, Bearer values) are seldom longer than this. */
const SHAPE_SPAN = 512;

export function createOutputRedactor(env: NodeJS.ProcessEnv): OutputRedactor {
  const values = secretValuesFromEnv(env);
  const span = Math.max(SHAPE_SPAN, ...values.map((v) => v.length));
  return {
    span,
    // Values first: a value that also has a shape goes whole, not in part.
    redact: (text) => redactSecretShapes(redactValues(text, values)),
  };
}
