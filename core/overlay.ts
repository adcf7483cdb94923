/**
 * Reading and setting the `images:` list of a Kustomize kustomization.yaml, as text in and text
 * out (no I/O). Edits are splices into the original text at the positions the `yaml` document
 * API reports, so comments, key order, quoting and indentation of everything we do not mean to
 * change stay byte-for-byte as they were — a re-serialised document would not guarantee that.
 *
 * What a setting changes:
 * - `newName` is written when given and left as it is otherwise (an overlay may rename an image
 *   to a registry the pipeline config does not know about);
 * - `newTag` and `digest` together say which build runs: when a setting gives either, the entry
 *   ends up with exactly the tag and digest the setting gives. A stale digest left next to a new
 *   tag would keep the old build running, and a rollback must restore exactly what was there.
 */
import { isMap, isScalar, isSeq, parseDocument, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { ImageSetting } from './images.js';

export type OverlayErrorReason = 'syntax' | 'not-a-kustomization' | 'missing-image' | 'duplicate-image';

/** The kustomization text cannot serve the request; nothing was changed. */
export class OverlayError extends Error {
  constructor(
    readonly file: string,
    readonly reason: OverlayErrorReason,
    detail: string,
    readonly image?: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'OverlayError';
  }
}

const EDITABLE_FIELDS = ['newName', 'newTag', 'digest'] as const;
type EditableField = (typeof EDITABLE_FIELDS)[number];

interface Entry {
  name: string;
  node: YAMLMap;
}

/** The current settings of the named images, in the order asked. */
export function readOverlayImages(text: string, file: string, names: string[]): ImageSetting[] {
  const entries = imageEntries(text, file);
  return names.map((name) => settingOf(findEntry(entries, name, file)));
}

/** All entries of the `images:` list (an overlay without the list has none). */
export function listOverlayImages(text: string, file: string): ImageSetting[] {
  return imageEntries(text, file).map(settingOf);
}

/**
 * Returns the text with the images set. `changed` is false when the text already held them, in
 * which case `text` is the input unchanged.
 */
export function setOverlayImages(text: string, file: string, images: ImageSetting[]): { text: string; changed: boolean } {
  const entries = imageEntries(text, file);
  const splices: Splice[] = [];
  for (const wanted of images) {
    const entry = findEntry(entries, wanted.name, file);
    splices.push(...entrySplices(text, file, entry, wantedFields(wanted)));
  }
  if (splices.length === 0) return { text, changed: false };
  const edited = applySplices(text, splices);
  return { text: edited, changed: edited !== text };
}

/** True when every wanted setting already holds in `current` (fields the setting leaves open are ignored). */
export function overlayHolds(current: ImageSetting[], wanted: ImageSetting[]): boolean {
  return wanted.every((w) => {
    const c = current.find((i) => i.name === w.name);
    if (!c) return false;
    const fields = wantedFields(w);
    return EDITABLE_FIELDS.every((f) => !fields.has(f) || (fields.get(f) ?? undefined) === c[f]);
  });
}

// ---------------------------------------------------------------- parsing

function imageEntries(text: string, file: string): Entry[] {
  const doc = parseDocument(text, { prettyErrors: false, keepSourceTokens: false });
  if (doc.errors.length > 0) {
    throw new OverlayError(file, 'syntax', `YAML does not parse: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  if (doc.contents === null) return [];
  if (!isMap(doc.contents)) throw new OverlayError(file, 'not-a-kustomization', 'expected a mapping at the top level');
  const images = doc.contents.get('images', true);
  if (images === undefined || (isScalar(images) && images.value === null)) return [];
  if (!isSeq(images)) throw new OverlayError(file, 'not-a-kustomization', '`images:` is not a list');
  return images.items.map((item, i) => {
    const name = isMap(item) ? item.get('name') : undefined;
    if (!isMap(item) || typeof name !== 'string') {
      throw new OverlayError(file, 'not-a-kustomization', `images[${i}] has no \`name:\``);
    }
    return { name, node: item };
  });
}

function findEntry(entries: Entry[], name: string, file: string): Entry {
  const found = entries.filter((e) => e.name === name);
  if (found.length === 0) {
    throw new OverlayError(file, 'missing-image', `no entry for image "${name}" in \`images:\``, name);
  }
  if (found.length > 1) {
    throw new OverlayError(file, 'duplicate-image', `more than one entry for image "${name}" in \`images:\``, name);
  }
  return found[0]!;
}

function settingOf(entry: Entry): ImageSetting {
  const setting: ImageSetting = { name: entry.name };
  for (const field of EDITABLE_FIELDS) {
    const value = scalarText(entry.node.get(field, true));
    if (value !== undefined) setting[field] = value;
  }
  return setting;
}

/** A scalar's value as a string, as written: `newTag: 1.20` is the tag "1.20", not the number 1.2. */
function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  return String(node.value);
}

/** The fields a setting decides: a value to write, or null to remove. */
function wantedFields(wanted: ImageSetting): Map<EditableField, string | null> {
  const fields = new Map<EditableField, string | null>();
  if (wanted.newName !== undefined) fields.set('newName', wanted.newName);
  if (wanted.newTag !== undefined || wanted.digest !== undefined) {
    fields.set('newTag', wanted.newTag ?? null);
    fields.set('digest', wanted.digest ?? null);
  }
  return fields;
}

// ---------------------------------------------------------------- editing

interface Splice {
  start: number;
  end: number;
  insert: string;
}

function applySplices(text: string, splices: Splice[]): string {
  const ordered = [...splices].sort((a, b) => b.start - a.start || b.end - a.end);
  let out = text;
  for (const s of ordered) out = out.slice(0, s.start) + s.insert + out.slice(s.end);
  return out;
}

function entrySplices(text: string, file: string, entry: Entry, fields: Map<EditableField, string | null>): Splice[] {
  for (const field of fields.keys()) {
    const value = entry.node.get(field, true);
    if (value !== undefined && !isScalar(value)) {
      throw new OverlayError(file, 'not-a-kustomization', `images entry "${entry.name}": \`${field}\` is not a plain value`, entry.name);
    }
  }
  return entry.node.flow ? flowEntrySplices(text, entry.node, fields) : blockEntrySplices(text, entry.node, fields);
}

function pairOf(map: YAMLMap, key: string): Pair<Scalar, unknown> | undefined {
  return (map.items as Array<Pair<Scalar, unknown>>).find((p) => isScalar(p.key) && p.key.value === key);
}

/** Replaces the scalar's text, keeping its quoting style; an empty `key:` gets a space before the value. */
function replaceScalar(text: string, node: Scalar, value: string): Splice | undefined {
  if (scalarText(node) === value) return undefined;
  const [start, end] = node.range!;
  const rendered = renderScalar(value, node.type);
  const needsSpace = start === end && text[start - 1] === ':';
  return { start, end, insert: needsSpace ? ` ${rendered}` : rendered };
}

function blockEntrySplices(text: string, map: YAMLMap, fields: Map<EditableField, string | null>): Splice[] {
  const splices: Splice[] = [];
  const additions: string[] = [];
  const firstKey = (map.items[0] as Pair<Scalar>).key;
  const indent = ' '.repeat(firstKey.range![0] - lineStart(text, firstKey.range![0]));
  for (const [field, value] of fields) {
    const pair = pairOf(map, field);
    if (pair && value !== null && isScalar(pair.value)) {
      const splice = replaceScalar(text, pair.value, value);
      if (splice) splices.push(splice);
    } else if (pair && value === null) {
      // Remove the whole line(s) of the pair, comments on it included.
      const start = lineStart(text, pair.key.range![0]);
      const valueEnd = isScalar(pair.value) ? pair.value.range![1] : pair.key.range![1];
      splices.push({ start, end: lineEndIncludingNewline(text, valueEnd), insert: '' });
    } else if (!pair && value !== null) {
      additions.push(`${indent}${field}: ${renderScalar(value, 'PLAIN')}\n`);
    }
  }
  if (additions.length > 0) {
    const last = map.items[map.items.length - 1] as Pair<Scalar, Scalar | null>;
    const lastEnd = last.value && isScalar(last.value) ? last.value.range![1] : last.key.range![1];
    const at = lineEndIncludingNewline(text, lastEnd);
    const prefix = at > 0 && text[at - 1] !== '\n' ? '\n' : '';
    splices.push({ start: at, end: at, insert: prefix + additions.join('') });
  }
  return splices;
}

/**
 * A flow entry (`- { name: a, newTag: b }`): values are replaced in place; when a key has to be
 * added or removed, the entry is written again on its own line span with its other pairs' text
 * copied from the source.
 */
function flowEntrySplices(text: string, map: YAMLMap, fields: Map<EditableField, string | null>): Splice[] {
  const pairs = map.items as Array<Pair<Scalar, Scalar>>;
  const needsRewrite = [...fields].some(([field, value]) => (pairOf(map, field) === undefined) !== (value === null));
  if (!needsRewrite) {
    const splices: Splice[] = [];
    for (const [field, value] of fields) {
      const pair = pairOf(map, field);
      if (pair && value !== null && isScalar(pair.value)) {
        const splice = replaceScalar(text, pair.value, value);
        if (splice) splices.push(splice);
      }
    }
    return splices;
  }
  const parts: string[] = [];
  for (const pair of pairs) {
    const key = String(pair.key.value);
    if (fields.has(key as EditableField)) {
      const value = fields.get(key as EditableField);
      if (value === null || value === undefined) continue;
      parts.push(`${text.slice(pair.key.range![0], pair.key.range![1])}: ${renderScalar(value, pair.value?.type ?? 'PLAIN')}`);
    } else {
      parts.push(text.slice(pair.key.range![0], pair.value ? pair.value.range![1] : pair.key.range![1]));
    }
  }
  for (const [field, value] of fields) {
    if (value !== null && pairOf(map, field) === undefined) parts.push(`${field}: ${renderScalar(value, 'PLAIN')}`);
  }
  const [start, end] = map.range!;
  const closing = text.lastIndexOf('}', end);
  return [{ start, end: closing + 1, insert: `{ ${parts.join(', ')} }` }];
}

/** Writes a string value as YAML that reads back as that same string. */
function renderScalar(value: string, style: Scalar['type']): string {
  if (style === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  if (style === 'QUOTE_DOUBLE') return JSON.stringify(value);
  return isPlainSafe(value) ? value : JSON.stringify(value);
}

/** Plain when YAML would read it back as the same string (not a number, bool, null, or syntax). */
function isPlainSafe(value: string): boolean {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.\-/:@+]*$/.test(value)) return false;
  if (/:(\s|$)/.test(value)) return false;
  const doc = parseDocument(value);
  return doc.errors.length === 0 && isScalar(doc.contents) && doc.contents.value === value;
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

function lineEndIncludingNewline(text: string, pos: number): number {
  const nl = text.indexOf('\n', pos);
  return nl === -1 ? text.length : nl + 1;
}
