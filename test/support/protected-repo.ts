/**
 * A bare repository's `main` protected the way a GitHub branch protection rule does it for
 * pushes: a pre-receive hook refuses every update of it, and lets side branches through.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROTECTED_MESSAGE = 'protected branch: main takes changes through pull requests only';

export function protectMain(barePath: string): void {
  const hook = join(barePath, 'hooks', 'pre-receive');
  writeFileSync(
    hook,
    ['#!/bin/sh', 'while read old new ref; do', '  if [ "$ref" = "refs/heads/main" ]; then', `    echo "${PROTECTED_MESSAGE}" >&2`, '    exit 1', '  fi', 'done', 'exit 0', ''].join('\n'),
  );
  chmodSync(hook, 0o755);
}
