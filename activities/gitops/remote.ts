/**
 * How git reaches a GitTarget's remote: the URL git is given and the environment that carries
 * credentials. A token is sent as an http.extraHeader set through GIT_CONFIG_* variables, so it
 * is never part of a URL, of argv, or of a config file on disk.
 */
import { resolve } from 'node:path';
import type { GitTarget } from '../types.js';
import { createRedactor, type Redactor } from './redact.js';

export interface Remote {
  /** What git is given as the remote (a local path made absolute). */
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

/** Makes a local path absolute: git commands run in temp folders, not in the worker's cwd. */
export function remoteUrl(url: string): string {
  if (SCHEME.test(url) || SCP_LIKE.test(url)) return url;
  return resolve(url);
}

export function remoteFor(target: GitTarget, baseEnv: NodeJS.ProcessEnv = process.env): Remote {
  const url = remoteUrl(target.url);
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    // Fail instead of waiting for a person to type a password.
    GIT_TERMINAL_PROMPT: '0',
  };
  // ssh must not prompt either; an ssh command the operator configured wins.
  if (!baseEnv.GIT_SSH_COMMAND && !baseEnv.GIT_SSH) env.GIT_SSH_COMMAND = 'ssh -o BatchMode=yes';
  const secrets: string[] = [];
  if (target.tokenFromEnv) {
    const token = baseEnv[target.tokenFromEnv];
    if (!token) throw new MissingTokenError(target.tokenFromEnv);
    secrets.push(token);
    if (/^https?:\/\//i.test(url)) {
      const { protocol, host } = new URL(url);
      const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
      secrets.push(basic);
      appendConfig(env, `http.${protocol}//${host}/.extraHeader`, `Authorization: Basic ${basic}`);
    }
  }
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([^/@]+)@/i.exec(url)?.[1];
  if (userinfo) secrets.push(...userinfo.split(':').filter((s) => s.length >= 4));
  return { url, env, redact: createRedactor(secrets) };
}

/** Adds one `-c key=value` through the environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n). */
function appendConfig(env: NodeJS.ProcessEnv, key: string, value: string): void {
  const n = Number(env.GIT_CONFIG_COUNT ?? '0');
  env[`GIT_CONFIG_KEY_${n}`] = key;
  env[`GIT_CONFIG_VALUE_${n}`] = value;
  env.GIT_CONFIG_COUNT = String(n + 1);
}
