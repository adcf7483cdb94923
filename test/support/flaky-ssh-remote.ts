/**
 * A git remote reached over "ssh" that can be taken offline for pushes: a stand-in ssh command
 * runs git's receive-pack/upload-pack locally against a bare repository, and while a flag file
 * exists it answers pushes the way an unreachable host does (exit 255, "Connection refused").
 * That is the transient failure a remote outage produces — unlike a pre-receive hook decline,
 * which git reports as "hook declined" and Slipway rightly treats as a permanent refusal
 * (that is also how a protected branch answers).
 */
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FlakySshRemote {
  /** The ssh:// URL for the GitTarget. */
  url: string;
  /** The env to hand the gitops activities (GIT_SSH_COMMAND and friends). */
  env: NodeJS.ProcessEnv;
  refusePushes(): void;
  acceptPushes(): void;
  /** How many pushes were refused so far. */
  refusals(): number;
  /**
   * The next connection (fetch, clone or push) is accepted and never answered: the "ssh" process
   * sleeps, as a host that accepts TCP and then says nothing does. Later connections work again.
   */
  hangNext(): void;
  /** The pids of the processes that hung so far (to check they were killed). */
  hungPids(): number[];
}

export function flakySshRemote(barePath: string, dir: string): FlakySshRemote {
  const flag = join(dir, 'remote-down');
  const log = join(dir, 'refusals.log');
  const script = join(dir, 'fake-ssh');
  const hangFlag = join(dir, 'hang-next');
  const hungLog = join(dir, 'hung.log');
  writeFileSync(
    script,
    `#!/bin/sh
# Called by git as: fake-ssh <host> <command> (GIT_SSH_VARIANT=simple).
host="$1"; shift
if [ -f '${hangFlag}' ]; then
  rm -f '${hangFlag}'
  echo $$ >> '${hungLog}'
  exec sleep 3600
fi
case "$*" in
  git-receive-pack*)
    if [ -f '${flag}' ]; then
      echo refused >> '${log}'
      echo "ssh: connect to host $host port 22: Connection refused" >&2
      exit 255
    fi;;
esac
exec sh -c "$*"
`,
  );
  chmodSync(script, 0o755);
  return {
    url: `ssh://gitremote.test${barePath}`,
    env: { ...process.env, GIT_SSH_COMMAND: script, GIT_SSH_VARIANT: 'simple' },
    refusePushes: () => writeFileSync(flag, ''),
    acceptPushes: () => rmSync(flag, { force: true }),
    refusals: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0),
    hangNext: () => writeFileSync(hangFlag, ''),
    hungPids: () => (existsSync(hungLog) ? readFileSync(hungLog, 'utf8').split('\n').filter(Boolean).map(Number) : []),
  };
}
