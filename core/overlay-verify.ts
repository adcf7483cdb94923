/**
 * The check every overlay edit passes before it may leave the worker. It does not trust the
 * editor: it parses the result again and compares it with the original and with what the edits
 * mean —
 * - the result is valid YAML and a kustomization, with the same `images:` entries in the same order;
 * - each edited entry holds exactly the wanted fields (absent ones absent, values read back as
 *   the same strings) and everything else it held before;
 * - every other entry, and everything outside `images:`, means the same as before;
 * - the text outside the edited entries is byte-for-byte the same, and inside them the pairs
 *   that were not edited are too; no comment is lost except one on a removed field's own line;
 * - the edited values are those strings under YAML 1.1 too, as kustomize reads them;
 * - the line endings are the file's.
 */
import { isMap, parseDocument, type CST, type Pair } from 'yaml';
import {
  IMAGE_FIELDS,
  OverlayError,
  commentsIn,
  pairLinesEnd,
  parseOverlay,
  tokenEnd,
  valueEnd,
  type ImageEdit,
  type OverlayEntry,
  type ParsedOverlay,
} from './overlay-parse.js';

/** Throws an OverlayError ('edit-invalid') naming the file and what is wrong, when `after` is not `before` with exactly `edits` applied. */
export function verifyOverlayEdit(before: string, after: string, file: string, edits: ImageEdit[]): void {
  const problems = overlayEditProblems(before, after, file, edits);
  if (problems.length > 0) {
    const shown = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
    throw new OverlayError(file, 'edit-invalid', `the edit would not be the intended change: ${shown}`);
  }
}

/** What is wrong with `after` as the result of applying `edits` to `before` (empty when nothing is). */
export function overlayEditProblems(before: string, after: string, file: string, edits: ImageEdit[]): string[] {
  const was = parseOverlay(before, file);
  let now: ParsedOverlay;
  try {
    now = parseOverlay(after, file);
  } catch (err) {
    if (err instanceof OverlayError) return [`the result ${err.reason === 'syntax' ? 'is not valid YAML' : 'is not a kustomization'} (${err.detail})`];
    throw err;
  }
  const problems: string[] = [];
  const wanted = new Map(edits.map((e) => [e.name, e]));

  // Outside `images:`: the same keys in the same order, meaning the same.
  const topKeys = (p: ParsedOverlay) => (isMap(p.doc.contents) ? (p.doc.contents.items as Pair[]).map((i) => String(i.key)) : []);
  if (!sameValue(topKeys(was), topKeys(now))) problems.push('the top-level keys changed');
  const jsWas = toJS(was);
  const jsNow = toJS(now);
  if (!sameValue(withoutImages(jsWas), withoutImages(jsNow))) problems.push('something outside `images:` changed');

  // The entries: same names, same order; edited ones exactly as wanted, the rest as they were.
  const namesWas = was.entries.map((e) => e.name);
  const namesNow = now.entries.map((e) => e.name);
  if (!sameValue(namesWas, namesNow)) {
    problems.push(`the \`images:\` entries changed from [${namesWas.join(', ')}] to [${namesNow.join(', ')}]`);
    return problems;
  }
  const imagesWas = (jsWas as { images?: unknown[] } | null)?.images ?? [];
  const imagesNow = (jsNow as { images?: unknown[] } | null)?.images ?? [];
  for (const [i, name] of namesWas.entries()) {
    const edit = wanted.get(name);
    const old = imagesWas[i] as Record<string, unknown>;
    const got = imagesNow[i] as Record<string, unknown>;
    if (!edit) {
      if (!sameValue(old, got)) problems.push(`images entry "${name}" changed, but no edit was meant for it`);
      continue;
    }
    const expected: Record<string, unknown> = { ...old };
    for (const field of IMAGE_FIELDS) {
      const value = edit.fields[field];
      if (value === null) delete expected[field];
      else if (value !== undefined) expected[field] = value;
    }
    for (const key of new Set([...Object.keys(expected), ...Object.keys(got)])) {
      if (!sameValue(expected[key], got[key])) {
        problems.push(`images entry "${name}": \`${key}\` should be ${describe(expected[key])}, is ${describe(got[key])}`);
      }
    }
    problems.push(...entryTextProblems(before, after, was, now, i, edit));
  }
  problems.push(...yaml11Problems(before, after, wanted, imagesNow as Array<Record<string, unknown>>));
  for (const name of wanted.keys()) {
    if (namesNow.filter((n) => n === name).length !== 1) problems.push(`image "${name}" has ${namesNow.filter((n) => n === name).length} entries, not one`);
  }

  problems.push(...outsideTextProblems(before, after, was, now, wanted));
  problems.push(...lineEndingProblems(before, after));
  return problems;
}

/**
 * kustomize reads kustomization.yaml as YAML 1.1, where `on`, `y`, `0123` or `1_000` written
 * plain are not strings, and a tag that is not a string makes `kustomize build` fail. The edited
 * values must be the wanted strings there too.
 */
function yaml11Problems(before: string, after: string, wanted: Map<string, ImageEdit>, read12: Array<Record<string, unknown>>): string[] {
  const read = (text: string) => parseDocument(text, { version: '1.1', prettyErrors: false });
  const now = read(after);
  if (now.errors.length > 0) return read(before).errors.length > 0 ? [] : [`the result does not parse as YAML 1.1 (${now.errors[0]!.message.split('\n')[0]})`];
  const images = ((now.toJS({ maxAliasCount: 100 }) as { images?: unknown } | null)?.images ?? []) as Array<Record<string, unknown>>;
  const problems: string[] = [];
  for (const [i, entry] of (Array.isArray(images) ? images : []).entries()) {
    const edit = wanted.get(entry?.name as string);
    if (!edit) continue;
    for (const field of IMAGE_FIELDS) {
      const value = edit.fields[field];
      // Only where YAML 1.2 reads the wanted value: a wrong value is reported once, above.
      if (typeof value === 'string' && read12[i]?.[field] === value && entry[field] !== value) {
        problems.push(`images entry "${edit.name}": \`${field}\` reads as ${describe(entry[field])} in YAML 1.1, as kustomize reads it`);
      }
    }
  }
  return problems;
}

/**
 * Text outside the edited entries' pairs: the same lines, byte for byte, in the same order.
 * The lines of an edited entry's pairs (its `- ` line included) may change; comment-only and
 * blank lines are compared wherever they are, by their text, because removing a first key moves
 * a comment below it up onto the `- ` line (`- # comment`).
 */
function outsideTextProblems(before: string, after: string, was: ParsedOverlay, now: ParsedOverlay, wanted: Map<string, ImageEdit>): string[] {
  const a = outsideLines(before, editedRanges(before, was, wanted));
  const b = outsideLines(after, editedRanges(after, now, wanted));
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i]?.text !== b[i]?.text) return [`text outside the edited entries changed (line ${b[i]?.line ?? lineOf(after, after.length)})`];
  }
  return [];
}

/** Inside an edited entry: pairs not edited keep their text, and comments stay (but those on a removed field's line). */
function entryTextProblems(before: string, after: string, parsedWas: ParsedOverlay, parsedNow: ParsedOverlay, index: number, edit: ImageEdit): string[] {
  const problems: string[] = [];
  const was = parsedWas.entries[index]!;
  const now = parsedNow.entries[index]!;
  const edited = (key: string) => (IMAGE_FIELDS as readonly string[]).includes(key) && edit.fields[key as keyof ImageEdit['fields']] !== undefined;
  const pairsNow = new Map((now.map.items as Pair[]).map((p) => [String(p.key), p.srcToken]));
  const removed: Array<[number, number]> = [];
  for (const pair of was.map.items as Pair[]) {
    const key = String(pair.key);
    const item = pair.srcToken;
    if (!item?.key) continue;
    if (edited(key)) {
      if (edit.fields[key as keyof ImageEdit['fields']] === null) removed.push([item.key.offset, pairLinesEnd(before, item)]);
      continue;
    }
    const other = pairsNow.get(key);
    // Up to the end of the value, without the line break a block scalar's content ends with
    // (the last line of a file may have none).
    const text = (source: string, it: CST.CollectionItem) => source.slice(it.key!.offset, valueEnd(it)).replace(/\s+$/, '');
    if (!other?.key || text(before, item) !== text(after, other)) problems.push(`images entry "${was.name}": \`${key}\` was not to change, but its text did`);
  }
  // Comments on the entry's pair lines (after a value, inside a flow mapping): the same ones, but
  // those on a removed field's line. Comment lines between pairs are compared with the text outside.
  const inside = (parsed: ParsedOverlay, source: string, entry: OverlayEntry) => {
    const ranges = entryRanges(source, entry);
    return commentsIn(parsed.images?.srcToken).filter((c) => ranges.some(([s, e]) => c.offset >= s && c.offset < e));
  };
  const commentsNow = inside(parsedNow, after, now).map((c) => c.source);
  for (const comment of inside(parsedWas, before, was)) {
    if (removed.some(([s, e]) => comment.offset >= s && comment.offset < e)) continue;
    const at = commentsNow.indexOf(comment.source);
    if (at === -1) problems.push(`images entry "${was.name}": the comment "${comment.source}" was lost`);
    else commentsNow.splice(at, 1);
  }
  for (const extra of commentsNow) problems.push(`images entry "${was.name}": the comment "${extra}" appeared`);
  return problems;
}

/** Where the edited entries' pairs are: whole lines of a block mapping's pairs, or of a flow mapping. */
function editedRanges(text: string, parsed: ParsedOverlay, wanted: Map<string, ImageEdit>): Array<[number, number]> {
  return parsed.entries.filter((e) => wanted.has(e.name)).flatMap((e) => entryRanges(text, e));
}

function entryRanges(text: string, entry: OverlayEntry): Array<[number, number]> {
  const token = entry.map.srcToken;
  if (token?.type === 'flow-collection') {
    const close = token.end.find((t) => t.type === 'flow-map-end');
    const end = close ? close.offset + 1 : tokenEnd(token);
    const nl = text.indexOf('\n', end - 1);
    return [[lineStartOf(text, token.offset), nl === -1 ? text.length : nl + 1]];
  }
  return (entry.map.items as Pair[]).flatMap((p) => (p.srcToken?.key ? [[lineStartOf(text, p.srcToken.key.offset), pairLinesEnd(text, p.srcToken)] as [number, number]] : []));
}

/** The lines outside the ranges; comment-only, blank and bare `-` lines by their trimmed text. */
function outsideLines(text: string, ranges: Array<[number, number]>): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let line = 1;
  for (let start = 0; start < text.length; line++) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1;
    if (!ranges.some(([s, e]) => start >= s && start < e)) {
      const raw = text.slice(start, end);
      const loose = /^[ \t]*(?:-[ \t]*)?(#.*)?\r?\n?$/.exec(raw);
      out.push({ text: loose ? (loose[1] ?? '').trim() : raw, line });
    }
    start = end;
  }
  return out;
}

function lineStartOf(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

function lineEndingProblems(before: string, after: string): string[] {
  const crlf = (t: string) => (t.match(/\r\n/g) ?? []).length;
  const lf = (t: string) => (t.match(/\n/g) ?? []).length - crlf(t);
  if (crlf(before) > 0 && lf(before) === 0 && lf(after) > 0) return ['the file uses CRLF line endings, the result has LF ones'];
  if (crlf(before) === 0 && crlf(after) > 0) return ['the file uses LF line endings, the result has CRLF ones'];
  return [];
}

function toJS(parsed: ParsedOverlay): unknown {
  return parsed.doc.toJS({ maxAliasCount: 100 });
}

function withoutImages(js: unknown): unknown {
  if (js === null || typeof js !== 'object' || Array.isArray(js)) return js;
  const { images: _images, ...rest } = js as Record<string, unknown>;
  return rest;
}

function describe(value: unknown): string {
  if (value === undefined) return 'absent';
  return typeof value === 'string' ? JSON.stringify(value) : `${JSON.stringify(value)} (${Array.isArray(value) ? 'a list' : typeof value}, not a string)`;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/** Structural equality of parsed YAML values (plain objects, arrays, scalars). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((v, i) => sameValue(v, (b as unknown[])[i]));
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
