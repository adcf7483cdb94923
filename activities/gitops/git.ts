/** Running the git CLI: execFile, no shell, output captured, every message redacted. */
import { execFile } from 'node:child_process';
import type { Redactor } from './redact.js';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  redact: Redactor;
}

/** A git command that failed; its message and output are already redacted. */
export class GitCommandError extends Error {
  constructor(
    readonly subcommand: string,
    readonly code: number,
    readonly output: string,
  ) {
    super(`git ${subcommand} failed (exit ${code}): ${firstLines(output)}`);
    this.name = 'GitCommandError';
  }
}

/** Runs git and resolves with its exit code and output, whatever the exit code. */
export function runGit(args: string[], opts: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd: opts.cwd, env: opts.env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(opts.redact(`cannot run git: ${err.message}`)));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout: opts.redact(stdout), stderr: opts.redact(stderr) });
    });
  });
}

/** Runs git and returns stdout; a non-zero exit throws a GitCommandError. */
export async function git(args: string[], opts: GitOptions): Promise<string> {
  const result = await runGit(args, opts);
  if (result.code !== 0) throw new GitCommandError(subcommandOf(args), result.code, `${result.stderr}\n${result.stdout}`.trim());
  return result.stdout;
}

function subcommandOf(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c' || args[i] === '-C') i++;
    else if (!args[i]!.startsWith('-')) return args[i]!;
  }
  return args[0] ?? '';
}

function firstLines(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^hint:/.test(l));
  return lines.slice(0, 6).join(' | ') || '(no output)';
}
