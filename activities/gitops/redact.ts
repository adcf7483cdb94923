/**
 * Keeping credentials out of everything Slipway prints, throws or records in workflow history.
 * Git echoes remote URLs and server messages in its errors; every such text passes through a
 * redactor before it leaves the gitops activities.
 */
import { redactSecretShapes, redactValues } from '../../core/secret-shapes.js';

export type Redactor = (text: string) => string;

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/**
 * Removes the given secret values, any userinfo (`user:pass@`, `token@`) in http(s) URLs and
 * `user:pass@` in others, and whatever else is shaped like a credential (a server may echo one
 * Slipway never held).
 */
export function createRedactor(secrets: Array<string | undefined>): Redactor {
  const values = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return (text: string) => {
    const out = redactValues(text, values).replace(URL_USERINFO, (whole, scheme: string, userinfo: string) =>
      /^https?:\/\//i.test(scheme) || userinfo.includes(':') ? `${scheme}***@` : whole,
    );
    return redactSecretShapes(out);
  };
}
