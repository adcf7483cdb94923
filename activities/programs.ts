/**
 * Finding a program the activities run (pg_dump, pg_restore, …) on the PATH. Its own module so the
 * worker's lookup and the test and demo tooling in infra/ (which imports it from here) agree on
 * what "installed" means.
 */
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The first regular file named `binary` in a PATH folder, or undefined. */
export function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, binary);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}
