/**
 * How git reaches a GitTarget's remote: the URL git is given and the environment that carries
 * credentials. Credentials are sent as an http.extraHeader set through GIT_CONFIG_* variables, so
 * they are never part of the URL git is given — not of any git process's argv (which `ps` shows
 * every user), not of a clone's .git/config on disk. That holds for a token (tokenFromEnv) and for
 * credentials written into the URL itself (`https://user:password@host/…`), which slipway.yaml
 * refuses but a remote handed in some other way may still carry.
 */
import { resolve } from 'node:path';
import { urlSecrets, urlUserinfo, withoutUserinfo } from '../../core/redact-url.js';
import type { GitTarget } from '../types.js';
import { createRedactor, type Redactor } from './redact.js';

export interface Remote {
  /** What git is given as the remote: a local path made absolute; never with userinfo. */
  url: string;
  /** The environment for every git command that talks to the remote. */
  env: NodeJS.ProcessEnv;
  redact: Redactor;
}

export class MissingTokenError extends Error {
  constructor(readonly envVar: string) {
    super(`the GitOps token variable ${envVar} is not set in the worker's environment`);
    this.name = 'MissingTokenError';
  }
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const SCP_LIKE = /^[^/\\]*:/;
const HTTP = /^https?:\/\//i;

/** Makes a local path absolute: git commands run in temp folders, not in the worker's cwd. */
export function remoteUrl(url: string): string {
  if (SCHEME.test(url) || SCP_LIKE.test(url)) return url;
  return resolve(url);
}

export function remoteFor(target: GitTarget, baseEnv: NodeJS.ProcessEnv = process.env): Remote {
  const written = remoteUrl(target.url);
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    // Fail instead of waiting for a person to type a password.
    GIT_TERMINAL_PROMPT: '0',
  };
  // ssh must not prompt either; an ssh command the operator configured wins.
  if (!baseEnv.GIT_SSH_COMMAND && !baseEnv.GIT_SSH) env.GIT_SSH_COMMAND = 'ssh -o BatchMode=yes';

  const secrets: string[] = [];
  const userinfo = SCHEME.test(written) ? urlUserinfo(written) : undefined;
  let url = written;
  if (userinfo) {
    secrets.push(...urlSecrets(written));
    // http(s): all of the userinfo goes (it travels as a header below). Other schemes cannot take
    // a password from the URL at all (ssh asks its agent): the user name stays, the password goes.
    url = withoutUserinfo(written);
    if (!HTTP.test(url)) url = url.replace('://', `://${encodeURIComponent(userinfo.user)}@`);
  }

  let basic: string | undefined;
  if (target.tokenFromEnv) {
    const token = baseEnv[target.tokenFromEnv];
    if (!token) throw new MissingTokenError(target.tokenFromEnv);
    secrets.push(token);
    // The configured token wins over credentials in the URL: one Authorization header, not two.
    basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  } else if (userinfo && HTTP.test(written)) {
    basic = Buffer.from(`${userinfo.user}:${userinfo.password ?? ''}`).toString('base64');
  }
  if (basic && HTTP.test(url)) {
    secrets.push(basic);
    const { protocol, host } = new URL(url);
    appendConfig(env, `http.${protocol}//${host}/.extraHeader`, `Authorization: Basic ${basic}`);
  }
  return { url, env, redact: createRedactor(secrets) };
}

/** Adds one `-c key=value` through the environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n). */
function appendConfig(env: NodeJS.ProcessEnv, key: string, value: string): void {
  const n = Number(env.GIT_CONFIG_COUNT ?? '0');
  env[`GIT_CONFIG_KEY_${n}`] = key;
  env[`GIT_CONFIG_VALUE_${n}`] = value;
  env.GIT_CONFIG_COUNT = String(n + 1);
}
