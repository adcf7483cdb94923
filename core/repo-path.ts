/**
 * Path arithmetic on `/`-separated paths inside a repository, as Kustomize resolves a
 * kustomization's entries: relative to the folder of the kustomization. Pure string work, no
 * node:path, so code that workflows import can use it too.
 */

/** The segments of a path with `.` and empty ones dropped and `..` applied; leading `..` stay (above the start). */
export function pathSegments(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(part);
  }
  return out;
}

/** `entry` as written in the kustomization of `dir`, as a path from the repository root (may start with `..` when it leaves the repository). */
export function resolveFrom(dir: string, entry: string): string[] {
  return pathSegments(`${dir}/${entry}`);
}

/** The path that leads from folder `from` to `to` (both from the repository root, neither above it); `.` for the folder itself. */
export function relativePath(from: string[], to: string[]): string {
  let common = 0;
  while (common < from.length && common < to.length && from[common] === to[common]) common++;
  const parts = [...from.slice(common).map(() => '..'), ...to.slice(common)];
  return parts.length === 0 ? '.' : parts.join('/');
}

/** Whether `inner` is `outer` or below it. */
export function isWithin(inner: string[], outer: string[]): boolean {
  return outer.length <= inner.length && outer.every((part, i) => inner[i] === part);
}
