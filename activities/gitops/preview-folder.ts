/**
 * A preview's folder in a clone: read from its template, written, and told apart from folders
 * that are not this preview.
 *
 * - The template is copied, not linked: kustomize reads no file outside an overlay's own folder,
 *   so the template's other files go next to the preview's kustomization.yaml as they are. Only
 *   regular files are copied; a symlink (it could lead out of the clone, or make the preview
 *   differ from what its template shows) or a subfolder is refused, never followed or skipped.
 * - Nothing on the way to either folder may be a symlink: the folder a preview names is the one
 *   read, written and removed, never another one a link leads to.
 * - Every preview folder holds a marker file (PREVIEW_MARKER) naming its app and pull request. A
 *   write replaces only a folder that is absent or holds this pull request's marker, and a
 *   removal removes only the latter: a wrong path (another preview's, a real environment's
 *   overlay, the template) is refused and left as it is. The marker is read from the branch
 *   itself, so the check costs nothing however long the history since the preview was written.
 */
import { copyFile, lstat, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import type { PreviewPullRequest } from '../types.js';
import { OverlayNotFoundError } from './failures.js';

/** The marker of a Slipway preview folder (kustomize ignores files its kustomization does not name). */
export const PREVIEW_MARKER = '.slipway-preview.yaml';

// The names kustomize accepts for a kustomization, as overlay-file.ts has them.
const KUSTOMIZATION_NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** The template folder holds what a preview cannot be copied from; nothing was written. */
export class PreviewTemplateUnsupportedError extends Error {
  override name = 'PreviewTemplateUnsupportedError';
}

/** The preview's folder is not this pull request's preview; it was left as it is. */
export class PreviewFolderTakenError extends Error {
  override name = 'PreviewFolderTakenError';
}

export function previewMarker(pullRequest: PreviewPullRequest, template: string): string {
  return [
    `# The preview of pull request #${pullRequest.number} of ${pullRequest.app}, written by Slipway from ${template.replace(/[\r\n]+/g, ' ')}.`,
    '# Slipway rewrites this folder from the template on every push to the pull request, and removes',
    '# it when the pull request closes; it writes over or removes only a folder holding this file.',
    stringify({ app: pullRequest.app, pullRequest: pullRequest.number }).trimEnd(),
    '',
  ].join('\n');
}

/** The pull request a marker names, or undefined when the text is not a marker. */
export function readPreviewMarker(text: string): PreviewPullRequest | undefined {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return undefined;
  const value = doc.toJS() as unknown;
  if (typeof value !== 'object' || value === null) return undefined;
  const { app, pullRequest } = value as Record<string, unknown>;
  if (typeof app !== 'string' || typeof pullRequest !== 'number' || !Number.isSafeInteger(pullRequest)) return undefined;
  return { app, number: pullRequest };
}

export interface TemplateFolder {
  /** The template's kustomization, as text. */
  kustomization: string;
  /** The template's other files (names in its folder), copied next to the preview's kustomization.yaml. */
  files: string[];
}

export async function readTemplate(root: string, template: string, branch: string): Promise<TemplateFolder> {
  const unsupported = (detail: string) =>
    new PreviewTemplateUnsupportedError(`the preview template ${template} on ${branch}: ${detail}; a preview is copied only from a folder of regular files, so nothing was written`);
  const state = await walk(root, template, unsupported);
  if (state !== 'folder') throw new OverlayNotFoundError(template, `the preview template folder ${template} does not exist on branch ${branch}`);
  const entries = (await readdir(join(root, template), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const problems: string[] = [];
  for (const entry of entries) {
    if (entry.isSymbolicLink()) problems.push(`${entry.name} is a symlink`);
    else if (entry.isDirectory()) problems.push(`${entry.name} is a subfolder`);
    else if (!entry.isFile()) problems.push(`${entry.name} is not a regular file`);
    else if (entry.name === PREVIEW_MARKER) problems.push(`${entry.name} is named as Slipway's preview marker`);
  }
  if (problems.length > 0) throw unsupported(problems.slice(0, 5).join(', ') + (problems.length > 5 ? `, and ${problems.length - 5} more` : ''));
  const names = entries.map((e) => e.name);
  const kustomizations = names.filter((n) => KUSTOMIZATION_NAMES.includes(n));
  if (kustomizations.length === 0) throw new OverlayNotFoundError(template, `the preview template ${template} has no kustomization.yaml on branch ${branch}`);
  if (kustomizations.length > 1) throw unsupported(`it holds ${kustomizations.join(' and ')} (kustomize refuses more than one)`);
  return {
    kustomization: await readFile(join(root, template, kustomizations[0]!), 'utf8'),
    files: names.filter((n) => n !== kustomizations[0]),
  };
}

/**
 * Whether the preview's folder is absent or this pull request's; anything else (a file, a folder
 * without the marker or with another pull request's, a symlink on the way) throws PreviewFolderTakenError.
 */
export async function previewFolderState(root: string, path: string, pullRequest: PreviewPullRequest, branch: string): Promise<'absent' | 'ours'> {
  const taken = (detail: string) =>
    new PreviewFolderTakenError(`${path} on ${branch} ${detail}, so it is not the preview of ${pullRequest.app}#${pullRequest.number}; it was left as it is and nothing was written`);
  const state = await walk(root, path, (detail) => taken(`is reached through something that is not a folder (${detail})`));
  if (state === 'absent') return 'absent';
  if (state === 'file') throw taken('is a file');
  const marker = join(root, path, PREVIEW_MARKER);
  const info = await lstat(marker).catch(() => undefined);
  if (!info?.isFile()) throw taken(`holds no ${PREVIEW_MARKER} (Slipway's preview marker)`);
  const named = readPreviewMarker(await readFile(marker, 'utf8'));
  if (!named) throw taken(`has a ${PREVIEW_MARKER} Slipway cannot read`);
  if (named.app !== pullRequest.app || named.number !== pullRequest.number) throw taken(`is the preview of ${named.app}#${named.number}`);
  return 'ours';
}

export interface PreviewFiles {
  template: string;
  templateFolder: TemplateFolder;
  /** The preview's kustomization.yaml. */
  kustomization: string;
  marker: string;
}

/** Makes `path` hold exactly the template's other files, the kustomization and the marker (checked by previewFolderState first). */
export async function writePreviewFolder(root: string, path: string, files: PreviewFiles): Promise<void> {
  const folder = join(root, path);
  await rm(folder, { recursive: true, force: true });
  await mkdir(folder, { recursive: true });
  for (const name of files.templateFolder.files) await copyFile(join(root, files.template, name), join(folder, name));
  await writeFile(join(folder, 'kustomization.yaml'), files.kustomization);
  await writeFile(join(folder, PREVIEW_MARKER), files.marker);
}

export async function removePreviewFolder(root: string, path: string): Promise<void> {
  await rm(join(root, path), { recursive: true, force: true });
}

/**
 * Looks at each segment of `path` below `root` without following links: 'absent' from the first
 * missing one, 'file' when the last is a file; a symlink anywhere, or a file on the way, throws `refuse`.
 */
async function walk(root: string, path: string, refuse: (detail: string) => Error): Promise<'folder' | 'file' | 'absent'> {
  const parts = path.split('/');
  let here = root;
  for (const [i, part] of parts.entries()) {
    here = join(here, part);
    const info = await lstat(here).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!info) return 'absent';
    const shown = parts.slice(0, i + 1).join('/');
    if (info.isSymbolicLink()) throw refuse(`${shown} is a symlink`);
    if (!info.isDirectory()) {
      if (i === parts.length - 1) return 'file';
      throw refuse(`${shown} is a file`);
    }
  }
  return 'folder';
}
