/**
 * Reading and setting the `images:` list of a Kustomize kustomization.yaml, as text in and text
 * out (no I/O). Edits are splices into the original text at the offsets of the `yaml` package's
 * concrete syntax tokens, so comments, key order, quoting and indentation of everything we do not
 * mean to change stay byte-for-byte as they were — a re-serialised document would not guarantee
 * that. Every edit is checked before it is returned (see overlay-verify.ts): a result that is not
 * exactly the intended change is an error, never a file.
 *
 * What a setting changes:
 * - `newName` is written when given and left as it is otherwise (an overlay may rename an image
 *   to a registry the pipeline config does not know about);
 * - `newTag` and `digest` together say which build runs: when a setting gives either, the entry
 *   ends up with exactly the tag and digest the setting gives. A stale digest left next to a new
 *   tag would keep the old build running, and a rollback must restore exactly what was there.
 * An ImageEdit says the same per field (a value, `null` for "absent", or left out for "as it is"),
 * so an entry can also be written back exactly as it was, absent fields included (exactImageEdit).
 */
import { CST, isAlias, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import type { ImageSetting } from './images.js';
import {
  IMAGE_FIELDS,
  OverlayError,
  findEntry,
  lineEnding,
  pairLinesEnd,
  parseOverlay,
  scalarText,
  settingOf,
  valueEnd,
  type ImageEdit,
  type ImageField,
  type OverlayEntry,
  type ParsedOverlay,
} from './overlay-parse.js';
import { verifyOverlayEdit } from './overlay-verify.js';
import { renderScalar, type ScalarStyle } from './overlay-scalar.js';

export { IMAGE_FIELDS, OverlayError, type ImageEdit, type ImageField, type OverlayErrorReason } from './overlay-parse.js';
export { overlayEditProblems, verifyOverlayEdit } from './overlay-verify.js';

/** The current settings of the named images, in the order asked. */
export function readOverlayImages(text: string, file: string, names: string[]): ImageSetting[] {
  const parsed = parseOverlay(text, file);
  return names.map((name) => settingOf(parsed.doc, findEntry(parsed.entries, name, file)));
}

/** All entries of the `images:` list (an overlay without the list has none). */
export function listOverlayImages(text: string, file: string): ImageSetting[] {
  const parsed = parseOverlay(text, file);
  return parsed.entries.map((entry) => settingOf(parsed.doc, entry));
}

/**
 * Returns the text with the images set. `changed` is false when the text already held them, in
 * which case `text` is the input unchanged.
 */
export function setOverlayImages(text: string, file: string, images: ImageSetting[]): { text: string; changed: boolean } {
  return editOverlayImages(text, file, images.map(imageEditFor));
}

/**
 * Applies the edits and checks the result (valid YAML, a kustomization, exactly these fields
 * changed, everything else as it was); throws an OverlayError when any of that does not hold.
 */
export function editOverlayImages(text: string, file: string, edits: ImageEdit[]): { text: string; changed: boolean } {
  // Every line of the file ends with a line break while it is edited, the last one included, so
  // no edit has to care whether a pair is on the last line; the file keeps its ending as it was.
  const eol = lineEnding(text);
  const open = text.length > 0 && !text.endsWith('\n');
  const source = open ? text + eol : text;
  const parsed = parseOverlay(source, file);
  const merged = mergeEdits(edits);
  const splices: Splice[] = [];
  for (const edit of merged) {
    const entry = findEntry(parsed.entries, edit.name, file);
    splices.push(...entrySplices(source, file, parsed, entry, edit.fields));
  }
  if (splices.length === 0) return { text, changed: false };
  const spliced = applySplices(source, file, splices);
  const edited = open && spliced.endsWith(eol) ? spliced.slice(0, -eol.length) : spliced;
  if (edited === text) return { text, changed: false };
  verifyOverlayEdit(text, edited, file, merged);
  return { text: edited, changed: true };
}

/** A setting as an edit: the fields it gives, and for tag and digest also the one it leaves out (removed). */
export function imageEditFor(setting: ImageSetting): ImageEdit {
  const fields: ImageEdit['fields'] = {};
  if (setting.newName !== undefined) fields.newName = setting.newName;
  if (setting.newTag !== undefined || setting.digest !== undefined) {
    fields.newTag = setting.newTag ?? null;
    fields.digest = setting.digest ?? null;
  }
  return { name: setting.name, fields };
}

/** An edit that leaves the entry holding exactly this setting: every field it does not give is removed. */
export function exactImageEdit(setting: ImageSetting): ImageEdit {
  return { name: setting.name, fields: { newName: setting.newName ?? null, newTag: setting.newTag ?? null, digest: setting.digest ?? null } };
}

/** True when every wanted setting already holds in `current` (fields the setting leaves open are ignored). */
export function overlayHolds(current: ImageSetting[], wanted: ImageSetting[]): boolean {
  return wanted.every((w) => {
    const c = current.find((i) => i.name === w.name);
    if (!c) return false;
    const { fields } = imageEditFor(w);
    return IMAGE_FIELDS.every((f) => !(f in fields) || (fields[f] ?? undefined) === c[f]);
  });
}

/** Two edits of one entry would overlap in the text; the later one wins field by field. */
function mergeEdits(edits: ImageEdit[]): ImageEdit[] {
  const byName = new Map<string, ImageEdit>();
  for (const edit of edits) {
    const known = byName.get(edit.name);
    byName.set(edit.name, { name: edit.name, fields: { ...known?.fields, ...definedFields(edit.fields) } });
  }
  return [...byName.values()];
}

function definedFields(fields: ImageEdit['fields']): ImageEdit['fields'] {
  const out: ImageEdit['fields'] = {};
  for (const f of IMAGE_FIELDS) if (fields[f] !== undefined) out[f] = fields[f];
  return out;
}

// ---------------------------------------------------------------- planning an entry's edit

interface Splice {
  start: number;
  end: number;
  insert: string;
}

/** One key/value pair of the entry with its source tokens. */
interface SourcePair {
  key: string;
  pair: Pair;
  item: CST.CollectionItem;
  keyToken: CST.Token;
}

type Change = { field: ImageField; value: string | null; at?: SourcePair };

function entrySplices(text: string, file: string, parsed: ParsedOverlay, entry: OverlayEntry, fields: ImageEdit['fields']): Splice[] {
  const refuse = (detail: string) =>
    new OverlayError(file, 'unsupported', `images entry "${entry.name}" ${detail}; Slipway does not edit that (write the entry without it)`, entry.name);
  const pairs = sourcePairs(entry.map, refuse);
  const shared = (node: unknown) => {
    const anchor = (node as { anchor?: string } | null)?.anchor;
    return anchor !== undefined && parsed.aliasedAnchors.has(anchor) ? anchor : undefined;
  };

  const changes: Change[] = [];
  for (const field of IMAGE_FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    const at = pairs.find((p) => p.key === field);
    if (!at) {
      if (value !== null) changes.push({ field, value });
      continue;
    }
    const node = at.pair.value as Node | null;
    const resolved = isAlias(node) ? node.resolve(parsed.doc) : node;
    if (resolved !== null && resolved !== undefined && !isScalar(resolved)) {
      throw new OverlayError(file, 'not-a-kustomization', `images entry "${entry.name}": \`${field}\` is not a plain value`, entry.name);
    }
    if (value !== null && !isAlias(node) && scalarText(resolved) === value) continue;
    const anchor = shared(node);
    if (anchor) throw refuse(`has \`${field}\` anchored as &${anchor} and used elsewhere as *${anchor}`);
    changes.push({ field, value, at });
  }
  if (changes.length === 0) return [];

  // The entry itself must be this entry alone: editing a shared node would change its other uses.
  if (isAlias(entry.node)) throw refuse(`is an alias (${entry.node.toString()})`);
  const anchor = shared(entry.map) ?? shared(parsed.images);
  if (anchor) throw refuse(`is part of a node anchored as &${anchor} and used elsewhere as *${anchor}`);
  if (pairs.some((p) => p.key === '<<')) throw refuse('uses a merge key (<<)');

  const token = entry.map.srcToken;
  if (token?.type === 'block-map') return blockSplices(text, pairs, changes);
  if (token?.type === 'flow-collection') return flowSplices(text, pairs, changes);
  throw refuse('is not a plain block or flow mapping');
}

function sourcePairs(map: YAMLMap, refuse: (detail: string) => OverlayError): SourcePair[] {
  return (map.items as Pair[]).map((pair) => {
    const item = pair.srcToken;
    if (!item || !item.key || !isScalar(pair.key) || typeof pair.key.value !== 'string') throw refuse('has a key that is not a plain string');
    if ((item as { explicitKey?: true }).explicitKey || item.start.some((t) => t.type === 'explicit-key-ind')) {
      throw refuse('uses an explicit key (`? key`)');
    }
    return { key: pair.key.value, pair, item, keyToken: item.key };
  });
}

// ---------------------------------------------------------------- block mappings

function blockSplices(text: string, pairs: SourcePair[], changes: Change[]): Splice[] {
  const eol = lineEnding(text);
  const first = pairs[0]!.keyToken.offset;
  const column = first - lineStart(text, first);
  const indent = ' '.repeat(column);
  const splices: Splice[] = [];
  const removed = new Set<SourcePair>();
  const additions: Array<[ImageField, string]> = [];
  for (const change of changes) {
    if (change.value === null) removed.add(change.at!);
    else if (change.at) splices.push(...replaceValue(change.at, change.value, { inFlow: false, column, eol }));
    else additions.push([change.field, change.value]);
  }
  splices.push(...removeBlockPairs(text, pairs, removed));
  if (additions.length === 0) return splices;

  const remaining = pairs.filter((p) => !removed.has(p));
  // When the first key (on the `- ` line) goes, the next one takes its place: new keys cannot go before it.
  const firstGone = removed.has(pairs[0]!) && ownLineStart(text, first) === undefined;
  const groups = firstGone ? [[undefined, additions] as const] : insertionGroups(remaining, additions);
  for (const [anchor, fields] of groups) {
    const lines = fields.map(([field, value]) => `${field}: ${renderScalar(value, 'PLAIN', false)}`);
    if (anchor === undefined) {
      // After the last pair: past its value, its comment and its line break, before whatever follows.
      const at = pairLinesEnd(text, pairs[pairs.length - 1]!.item);
      splices.push({ start: at, end: at, insert: lines.map((l) => indent + l + eol).join('') });
    } else {
      const key = anchor.keyToken.offset;
      const own = ownLineStart(text, key);
      if (own !== undefined) {
        splices.push({ start: own, end: own, insert: lines.map((l) => indent + l + eol).join('') });
      } else {
        // Before the key on the `- ` line: the new pair takes that place, the key moves to the next line.
        splices.push({ start: key, end: key, insert: lines.map((l) => l + eol + indent).join('') });
      }
    }
  }
  return splices;
}

/**
 * Removes pairs with their values (block scalars included) and trailing comments. Comments on
 * lines of their own above them stay. When the first key, on the `- ` line, goes (with the keys
 * right after it that go too), the next remaining key moves up into its place, so the list
 * marker stays.
 */
function removeBlockPairs(text: string, pairs: SourcePair[], removed: Set<SourcePair>): Splice[] {
  const splices: Splice[] = [];
  let next = 0;
  const firstKey = pairs[0]!.keyToken.offset;
  if (removed.has(pairs[0]!) && ownLineStart(text, firstKey) === undefined) {
    // Whatever follows moves up to the `- ` line: the next key (and when that goes too, the one
    // after it), or a comment line, which then stays there (`- # comment`).
    let to = firstKey;
    while (next < pairs.length && removed.has(pairs[next]!) && pairs[next]!.keyToken.offset === to) {
      to = pairLinesEnd(text, pairs[next]!.item);
      while (text[to] === ' ' || text[to] === '\t') to++;
      next++;
    }
    splices.push({ start: firstKey, end: to, insert: '' });
  }
  for (const at of pairs.slice(next)) {
    if (!removed.has(at)) continue;
    splices.push({ start: ownLineStart(text, at.keyToken.offset) ?? at.keyToken.offset, end: pairLinesEnd(text, at.item), insert: '' });
  }
  return splices;
}

// ---------------------------------------------------------------- flow mappings

function flowSplices(text: string, pairs: SourcePair[], changes: Change[]): Splice[] {
  const splices: Splice[] = [];
  const removed = new Set<SourcePair>();
  const additions: Array<[ImageField, string]> = [];
  for (const change of changes) {
    if (change.value === null) removed.add(change.at!);
    else if (change.at) splices.push(...replaceValue(change.at, change.value, { inFlow: true, column: 0, eol: lineEnding(text) }));
    else additions.push([change.field, change.value]);
  }
  splices.push(...removeFlowPairs(text, pairs, removed));
  if (additions.length === 0) return splices;
  const remaining = pairs.filter((p) => !removed.has(p));
  for (const [anchor, fields] of insertionGroups(remaining, additions)) {
    const rendered = fields.map(([field, value]) => `${field}: ${renderScalar(value, 'PLAIN', true)}`);
    if (anchor === undefined) {
      const at = valueEnd(remaining[remaining.length - 1]!.item);
      splices.push({ start: at, end: at, insert: rendered.map((r) => `, ${r}`).join('') });
    } else {
      const at = anchor.keyToken.offset;
      splices.push({ start: at, end: at, insert: rendered.map((r) => `${r}, `).join('') });
    }
  }
  return splices;
}

/**
 * Removes `key: value` pairs, each with one comma next to it; comments around them stay. A pair
 * after a remaining one takes the comma before it; one before every remaining pair, the comma
 * after it (and the spaces after that).
 */
function removeFlowPairs(text: string, pairs: SourcePair[], removed: Set<SourcePair>): Splice[] {
  const splices: Splice[] = [];
  let leading = true;
  for (const [i, at] of pairs.entries()) {
    if (!removed.has(at)) {
      leading = false;
      continue;
    }
    const start = at.keyToken.offset;
    const end = valueEnd(at.item);
    if (leading) {
      splices.push({ start, end, insert: '' });
      const comma = pairs[i + 1]?.item.start.find((t) => t.type === 'comma');
      if (comma) {
        let to = comma.offset + 1;
        while (text[to] === ' ' || text[to] === '\t') to++;
        splices.push({ start: comma.offset, end: to, insert: '' });
      }
      continue;
    }
    const comma = at.item.start.find((t) => t.type === 'comma');
    if (!comma) {
      splices.push({ start, end, insert: '' });
      continue;
    }
    // With the spaces before the comma, so `a , b: x }` becomes `a }`, not `a  }`.
    let from = comma.offset;
    while (text[from - 1] === ' ' || text[from - 1] === '\t') from--;
    const between = at.item.start.slice(at.item.start.indexOf(comma) + 1);
    if (between.every((t) => t.type === 'space')) splices.push({ start: from, end, insert: '' });
    else splices.push({ start: from, end: comma.offset + 1, insert: '' }, { start, end, insert: '' });
  }
  return splices;
}

// ---------------------------------------------------------------- values

interface ValueContext {
  inFlow: boolean;
  /** Column of the mapping's keys (block scalars indent from it). */
  column: number;
  eol: string;
}

/** Replaces a pair's value, keeping its style (plain, quoted, block) and anything after it on the line. */
function replaceValue(at: SourcePair, value: string, ctx: ValueContext): Splice[] {
  const token = at.item.value;
  if (!token) {
    // `key:` with nothing after it (or, in flow, `{ key }`).
    const indicator = at.item.sep?.find((t) => t.type === 'map-value-ind');
    const rendered = renderScalar(value, 'PLAIN', ctx.inFlow);
    if (indicator) return [{ start: indicator.offset + 1, end: indicator.offset + 1, insert: ` ${rendered}` }];
    const keyEnd = at.keyToken.offset + (at.keyToken as CST.FlowScalar).source.length;
    return [{ start: keyEnd, end: keyEnd, insert: `: ${rendered}` }];
  }
  switch (token.type) {
    case 'scalar':
    case 'alias':
    case 'single-quoted-scalar':
    case 'double-quoted-scalar': {
      const style: ScalarStyle = token.type === 'single-quoted-scalar' ? 'QUOTE_SINGLE' : token.type === 'double-quoted-scalar' ? 'QUOTE_DOUBLE' : 'PLAIN';
      return [{ start: token.offset, end: token.offset + token.source.length, insert: renderScalar(value, style, ctx.inFlow) }];
    }
    case 'block-scalar':
      return replaceBlockScalar(token, value, ctx);
    default:
      throw new Error(`unexpected ${token.type} value`);
  }
}

/**
 * A `|` or `>` value keeps its style: the header's chomping follows the value (strip `-` unless
 * the value ends with a line break), the content keeps its indentation. A value that cannot be
 * one line of block content becomes a double-quoted scalar in the header's place.
 */
function replaceBlockScalar(token: CST.BlockScalar, value: string, ctx: ValueContext): Splice[] {
  const header = token.props.find((t): t is CST.SourceToken => t.type === 'block-scalar-header');
  if (!header) throw new Error('block scalar without a header');
  const contentStart = token.offset + CST.stringify(token).length - token.source.length;
  // Blank lines after the content stay (they are not part of the value unless the header says `+`).
  const last = header.source.includes('+') ? -1 : token.source.search(/\S\s*$/);
  const lastBreak = last >= 0 ? token.source.indexOf('\n', last) : -1;
  const contentEnd = contentStart + (lastBreak >= 0 ? lastBreak + 1 : token.source.length);
  const body = value.endsWith('\n') ? value.slice(0, -1) : value;
  const fits = body.length > 0 && !/[\r\n]/.test(body) && !/^[ \t]/.test(body) && /^[\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd]*$/.test(body);
  if (!fits) {
    return [
      { start: header.offset, end: header.offset + header.source.length, insert: renderScalar(value, 'QUOTE_DOUBLE', false) },
      { start: contentStart, end: contentEnd, insert: '' },
    ];
  }
  const indicator = header.source[0]!;
  const digit = /[1-9]/.exec(header.source)?.[0] ?? '';
  const newHeader = `${indicator}${digit}${value.endsWith('\n') ? '' : '-'}`;
  // An indentation indicator fixes the content's indentation (relative to the keys'); without
  // one, the first content line sets it.
  const firstLine = token.source.split('\n').find((l) => l.replace(/\r$/, '').trim() !== '');
  const contentIndent = digit ? ' '.repeat(ctx.column + Number(digit)) : firstLine ? /^ */.exec(firstLine)![0] : ' '.repeat(ctx.column + 2);
  const eol = token.source.includes('\r\n') ? '\r\n' : ctx.eol;
  const splices: Splice[] = [{ start: contentStart, end: contentEnd, insert: `${contentIndent}${body}${eol}` }];
  if (newHeader !== header.source) splices.push({ start: header.offset, end: header.offset + header.source.length, insert: newHeader });
  return splices;
}

// ---------------------------------------------------------------- helpers

/**
 * Where new fields go. When the entry's keys are in alphabetical order (the order `kustomize edit
 * set image` writes), each new key goes where kustomize would put it, so writing an entry back
 * as it was gives back the same text; otherwise new keys go after the last one.
 */
function insertionGroups(remaining: SourcePair[], additions: Array<[ImageField, string]>): Array<[SourcePair | undefined, Array<[ImageField, string]>]> {
  const sorted = remaining.every((p, i) => i === 0 || remaining[i - 1]!.key < p.key);
  if (!sorted) return [[undefined, additions]];
  const groups = new Map<SourcePair | undefined, Array<[ImageField, string]>>();
  for (const addition of [...additions].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const anchor = remaining.find((p) => p.key > addition[0]);
    groups.set(anchor, [...(groups.get(anchor) ?? []), addition]);
  }
  return [...groups];
}

function applySplices(text: string, file: string, splices: Splice[]): string {
  const ordered = [...splices].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i]!.start < ordered[i - 1]!.end) throw new OverlayError(file, 'edit-invalid', 'the edit would overlap itself');
  }
  let out = text;
  for (const s of ordered.reverse()) out = out.slice(0, s.start) + s.insert + out.slice(s.end);
  return out;
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

/** The start of `pos`'s line when only indentation comes before it there. */
function ownLineStart(text: string, pos: number): number | undefined {
  let i = pos;
  while (i > 0 && (text[i - 1] === ' ' || text[i - 1] === '\t')) i--;
  return i === 0 || text[i - 1] === '\n' ? i : undefined;
}

