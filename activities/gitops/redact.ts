/**
 * Keeping credentials out of everything Slipway prints, throws or records in workflow history.
 * Git echoes remote URLs and server messages in its errors; every such text passes through a
 * redactor before it leaves the gitops activities.
 */
export type Redactor = (text: string) => string;

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/gi;

/** Removes the given secret values and any userinfo (`user:pass@`, `token@`) in http(s) URLs. */
export function createRedactor(secrets: Array<string | undefined>): Redactor {
  const values = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4).sort((a, b) => b.length - a.length);
  return (text: string) => {
    let out = text;
    for (const value of values) out = out.split(value).join('***');
    return out.replace(URL_USERINFO, (whole, scheme: string, userinfo: string) =>
      /^https?:\/\//i.test(scheme) || userinfo.includes(':') ? `${scheme}***@` : whole,
    );
  };
}
