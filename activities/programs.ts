/**
 * Finding a program the activities run (pg_dump, pg_restore, …) on the PATH. Its own module so the
 * worker's lookup and the test and demo tooling in infra/ (which imports it from here) agree on
 * what "installed" means.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first executable regular file named `binary` in a PATH folder, or undefined. */
export function findOnPath(binary: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
