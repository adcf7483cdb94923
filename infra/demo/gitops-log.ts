/** Reading the demo's GitOps repository with the git CLI, to show people what Slipway wrote there. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function gitopsLog(barePath: string, branch = 'main'): Promise<string[]> {
  const { stdout } = await run('git', ['--git-dir', barePath, 'log', '--oneline', '--no-decorate', branch]);
  return stdout.trimEnd().split('\n');
}

export async function headCommit(barePath: string, branch = 'main'): Promise<string> {
  const { stdout } = await run('git', ['--git-dir', barePath, 'rev-parse', branch]);
  return stdout.trim();
}
