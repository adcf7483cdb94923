/**
 * Image references as Kustomize's `images:` list holds them. The same artifact is promoted
 * everywhere: a release tags every image of the app with the source commit.
 */
export interface ImageSetting {
  /** The image name as it appears in the base manifests (the `name:` key). */
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

export type ImageConfigEntry = string | { name: string; newName?: string };

/** The images a release of `commit` deploys, one per configured image, tagged with the commit. */
export function imagesForCommit(images: ImageConfigEntry[], commit: string): ImageSetting[] {
  return images.map((entry) =>
    typeof entry === 'string' ? { name: entry, newTag: commit } : { name: entry.name, newName: entry.newName, newTag: commit },
  );
}

/** True when both lists set the same fields for the same names (order does not matter). */
export function sameImages(a: ImageSetting[], b: ImageSetting[]): boolean {
  if (a.length !== b.length) return false;
  const key = (i: ImageSetting) => JSON.stringify([i.name, i.newName ?? null, i.newTag ?? null, i.digest ?? null]);
  const left = new Set(a.map(key));
  return b.every((i) => left.has(key(i)));
}

/** `todoapp/frontend:3f2a9c1` style summary for messages. */
export function describeImages(images: ImageSetting[]): string {
  return images
    .map((i) => `${i.newName ?? i.name}${i.newTag ? `:${i.newTag.length > 12 ? i.newTag.slice(0, 12) : i.newTag}` : ''}${i.digest ? `@${i.digest.slice(0, 19)}` : ''}`)
    .join(', ');
}
