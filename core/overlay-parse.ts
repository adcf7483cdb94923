/**
 * Parsing a kustomization's `images:` list for the overlay editor and its verifier (no I/O).
 * Both work from the same view of the file: the `yaml` document, with each node linked to the
 * concrete syntax tokens it came from, so an edit can be placed at exact source offsets.
 */
import { CST, isAlias, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import type { ImageSetting } from './images.js';

export type OverlayErrorReason =
  | 'syntax'
  | 'not-a-kustomization'
  | 'missing-image'
  | 'duplicate-image'
  /** The file is valid, but the entry uses YAML Slipway does not edit safely (aliases, merge keys, explicit keys). */
  | 'unsupported'
  /** The edited text failed its own check: it is not the intended change. Nothing was written. */
  | 'edit-invalid';

/** The kustomization text cannot serve the request; nothing was changed. */
export class OverlayError extends Error {
  constructor(
    readonly file: string,
    readonly reason: OverlayErrorReason,
    readonly detail: string,
    readonly image?: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'OverlayError';
  }
}

/** The fields of an `images:` entry that say which build runs; `name` only identifies the entry. */
export const IMAGE_FIELDS = ['newName', 'newTag', 'digest'] as const;
export type ImageField = (typeof IMAGE_FIELDS)[number];

/**
 * One entry's change: for each field, a value to write, `null` to remove it, or nothing (absent
 * from `fields`) to leave it as it is.
 */
export interface ImageEdit {
  name: string;
  fields: Partial<Record<ImageField, string | null>>;
}

export interface OverlayEntry {
  index: number;
  name: string;
  /** The item as written: a mapping, or an alias to one (readable, never edited). */
  node: YAMLMap | Node;
  /** The mapping the entry resolves to. */
  map: YAMLMap;
}

export interface ParsedOverlay {
  doc: Document.Parsed;
  /** The `images:` node when the file has a list there. */
  images?: YAMLSeq;
  entries: OverlayEntry[];
  /** Anchor names some alias in the file refers to: nodes carrying them are shared. */
  aliasedAnchors: Set<string>;
}

export function parseOverlay(text: string, file: string): ParsedOverlay {
  const doc = parseDocument(text, { prettyErrors: false, keepSourceTokens: true });
  if (doc.errors.length > 0) {
    throw new OverlayError(file, 'syntax', `YAML does not parse: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  const aliasedAnchors = new Set<string>();
  visit(doc, { Alias: (_, alias) => void aliasedAnchors.add(alias.source) });
  const parsed: ParsedOverlay = { doc, entries: [], aliasedAnchors };
  if (doc.contents === null) return parsed;
  if (!isMap(doc.contents)) throw new OverlayError(file, 'not-a-kustomization', 'expected a mapping at the top level');
  let images: unknown = doc.contents.get('images', true);
  if (isAlias(images)) images = images.resolve(doc);
  if (images === undefined || (isScalar(images) && images.value === null)) return parsed;
  if (!isSeq(images)) throw new OverlayError(file, 'not-a-kustomization', '`images:` is not a list');
  parsed.images = images;
  parsed.entries = images.items.map((item, index) => {
    const map = isAlias(item) ? item.resolve(doc) : item;
    const name = isMap(map) ? map.get('name') : undefined;
    if (!isMap(map) || typeof name !== 'string') {
      throw new OverlayError(file, 'not-a-kustomization', `images[${index}] has no \`name:\``);
    }
    return { index, name, node: item as Node, map };
  });
  return parsed;
}

export function findEntry(entries: OverlayEntry[], name: string, file: string): OverlayEntry {
  const found = entries.filter((e) => e.name === name);
  if (found.length === 0) {
    throw new OverlayError(file, 'missing-image', `no entry for image "${name}" in \`images:\``, name);
  }
  if (found.length > 1) {
    throw new OverlayError(file, 'duplicate-image', `more than one entry for image "${name}" in \`images:\``, name);
  }
  return found[0]!;
}

export function settingOf(doc: Document.Parsed, entry: OverlayEntry): ImageSetting {
  const setting: ImageSetting = { name: entry.name };
  for (const field of IMAGE_FIELDS) {
    let node: unknown = entry.map.get(field, true);
    if (isAlias(node)) node = node.resolve(doc);
    const value = scalarText(node);
    if (value !== undefined) setting[field] = value;
  }
  return setting;
}

/** A scalar's value as a string, as written: `newTag: 1.20` is the tag "1.20", not the number 1.2. */
export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  return String(node.value);
}

// ---------------------------------------------------------------- source offsets

/** Where a token or collection item begins in the source. */
export function itemStart(item: CST.CollectionItem): number {
  const first = item.start[0] ?? item.key ?? item.sep?.[0] ?? item.value;
  if (!first) throw new Error('empty collection item');
  return first.offset;
}

/** Where a token or collection item ends (its trailing spaces, comments and line break included). */
export function itemEnd(item: CST.CollectionItem): number {
  return itemStart(item) + CST.stringify(item).length;
}

export function tokenEnd(token: CST.Token): number {
  return token.offset + CST.stringify(token).length;
}

/**
 * End of a block pair's lines: past its value (a block scalar's content included), its trailing
 * comment and its line break, but not the indentation of the line after it (which the tokens of a
 * pair with an empty value hold).
 */
export function pairLinesEnd(text: string, item: CST.CollectionItem): number {
  const value = item.value;
  if (value?.type === 'block-scalar' && !value.props.some((t) => t.type === 'block-scalar-header' && t.source.includes('+'))) {
    // Blank lines after a block scalar's content are not part of its value (only `|+` keeps
    // them): they separate what follows, and stay where they are.
    const contentStart = tokenEnd(value) - value.source.length;
    const last = value.source.search(/\S\s*$/);
    if (last >= 0) {
      const nl = value.source.indexOf('\n', last);
      return nl === -1 ? contentStart + value.source.length : contentStart + nl + 1;
    }
  }
  const end = itemEnd(item);
  let at = end;
  while (text[at - 1] === ' ' || text[at - 1] === '\t') at--;
  return text[at - 1] === '\n' ? at : end;
}

/** End of a pair's value itself, before spaces or comments after it (or of `key:` when there is no value). */
export function valueEnd(item: CST.CollectionItem): number {
  const token = item.value;
  if (token) return 'source' in token && token.type !== 'block-scalar' ? token.offset + token.source.length : tokenEnd(token);
  const indicator = item.sep?.find((t) => t.type === 'map-value-ind');
  if (indicator) return indicator.offset + 1;
  const key = item.key!;
  return 'source' in key ? key.offset + key.source.length : tokenEnd(key);
}

/** Every comment token under a token, in source order. */
export function commentsIn(token: CST.Token | CST.CollectionItem | undefined | null, out: CST.SourceToken[] = []): CST.SourceToken[] {
  if (!token) return out;
  if (!('type' in token)) {
    for (const t of token.start) commentsIn(t, out);
    commentsIn(token.key, out);
    for (const t of token.sep ?? []) commentsIn(t, out);
    commentsIn(token.value, out);
    return out;
  }
  switch (token.type) {
    case 'comment':
      out.push(token as CST.SourceToken);
      break;
    case 'block-scalar':
      for (const t of token.props) commentsIn(t, out);
      break;
    case 'block-map':
    case 'block-seq':
      for (const item of token.items) commentsIn(item as CST.CollectionItem, out);
      break;
    case 'flow-collection':
      for (const item of token.items) commentsIn(item, out);
      for (const t of token.end) commentsIn(t, out);
      break;
    default:
      if ('end' in token && token.end) for (const t of token.end) commentsIn(t, out);
  }
  return out;
}

/** The line ending in use: CRLF when the file's first line break is one. */
export function lineEnding(text: string): string {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}
