/**
 * A bare repository's `main` protected the way a GitHub branch protection rule does it for
 * pushes: a pre-receive hook refuses every update of it, and lets side branches through. With
 * `rollbacksBypass`, a push whose new head is a Slipway rollback commit (`Slipway-Kind: rollback`)
 * gets through, as a protection rule's bypass list lets the one actor it names through.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROTECTED_MESSAGE = 'protected branch: main takes changes through pull requests only';

export function protectMain(barePath: string, options: { rollbacksBypass?: boolean } = {}): void {
  const hook = join(barePath, 'hooks', 'pre-receive');
  const bypass = options.rollbacksBypass ? ['    if git log -1 --format=%B "$new" | grep -q "^Slipway-Kind: rollback"; then continue; fi'] : [];
  writeFileSync(
    hook,
    ['#!/bin/sh', 'while read old new ref; do', '  if [ "$ref" = "refs/heads/main" ]; then', ...bypass, `    echo "${PROTECTED_MESSAGE}" >&2`, '    exit 1', '  fi', 'done', 'exit 0', ''].join('\n'),
  );
  chmodSync(hook, 0o755);
}
