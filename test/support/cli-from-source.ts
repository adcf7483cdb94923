/**
 * The `slipway` CLI run from source (tsx), as a person runs it, in a child process: asynchronous,
 * so a worker in the test's own process keeps working while it waits. Killed after `timeoutMs`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { temporalAddress } from './temporal.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `slipway <args>` with the test's environment plus `vars`, less SLIPWAY_CONFIG unless `vars` sets it. */
export function runCliFromSource(args: string[], vars: Record<string, string>, timeoutMs = 90_000): Promise<CliRun> {
  // The CLI holds no policy of its own: a worker's SLIPWAY_CONFIG in the test's environment is not its.
  const { SLIPWAY_CONFIG: _ignored, ...inherited } = process.env;
  const env = { ...inherited, TEMPORAL_ADDRESS: temporalAddress(), ...vars };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'client', 'cli.ts'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
