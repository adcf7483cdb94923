/**
 * A pull request's preview overlay, made from the app's template overlay (no I/O): the template's
 * kustomization.yaml with the preview's `namespace:`, the pull request's image tags, and its
 * `resources:` and `components:` entries rewritten for the preview's folder; every other key
 * (`nameSuffix`, `commonLabels`, patches, …), and every comment, exactly as the template has it.
 *
 * The text is edited by splices at the `yaml` package's source offsets, as overlay.ts edits
 * images: re-serialising the document would re-read values (`1.20`, `0123`) and could change
 * what kustomize, a YAML 1.1 reader, makes of them. The result is parsed again and compared with
 * what was meant before it is returned.
 *
 * Entries that leave the template's folder (`../base`) are rewritten to reach the same folder or
 * file from the preview's. Entries inside the template's folder (`ingress.yaml`) stay relative to
 * it: kustomize reads no file outside an overlay's own folder ("security; file … is not in or
 * below …"), so whoever writes the preview copies the template folder's other files, as they are,
 * next to the preview's kustomization.yaml — where these entries, and the template's patch and
 * generator files (kept as written), then find them. Remote (`https://…`, `github.com/…//…`) and
 * absolute entries are kept as they are.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { ImageSetting } from './images.js';
import { OverlayError, setOverlayImages } from './overlay.js';
import { lineEnding, pairLinesEnd, parseOverlay, scalarText, type ParsedOverlay } from './overlay-parse.js';
import { renderScalar, type ScalarStyle } from './overlay-scalar.js';
import { PreviewInputError, dnsLabelProblem } from './preview-name.js';
import { isWithin, pathSegments, relativePath, resolveFrom } from './repo-path.js';

export { PreviewInputError, dnsLabelProblem, previewName, previewPatternProblem } from './preview-name.js';

export interface PreviewOverlayInput {
  /** The template overlay's kustomization.yaml, as text. */
  template: string;
  /** The template's folder in the GitOps repository (`overlays/preview-template`). */
  templateDir: string;
  /** The preview's folder (`overlays/previews/pr-12`). */
  previewDir: string;
  namespace: string;
  /** The pull request's images: each must have an entry in the template's `images:` (a misspelt name is an error, not a new entry). */
  images: ImageSetting[];
}

/** The keys whose entries are folders or files kustomize resolves from the kustomization's folder. */
const PATH_KEYS = ['resources', 'components'] as const;

/** The preview's kustomization.yaml. */
export function previewOverlay(input: PreviewOverlayInput): string {
  const templateDir = folder(input.templateDir, 'template');
  const previewDir = folder(input.previewDir, 'preview');
  if (isWithin(previewDir, templateDir) || isWithin(templateDir, previewDir)) {
    throw new PreviewInputError(`the preview folder ${input.previewDir} and the template folder ${input.templateDir} must be apart (neither inside the other)`);
  }
  const namespaceProblem = dnsLabelProblem(input.namespace);
  if (namespaceProblem) throw new PreviewInputError(`the preview namespace "${input.namespace}" ${namespaceProblem}`);
  const file = `${templateDir.join('/')}/kustomization.yaml`;
  const rewrite = entryRewriter(templateDir, previewDir);

  // The images first, by the overlay editor (checked by it); then the namespace and paths here.
  const withImages = setOverlayImages(input.template, file, input.images).text;
  const eol = lineEnding(withImages);
  // Every line ends with a line break while it is edited, as in overlay.ts; the ending is put back as it was.
  const open = withImages.length > 0 && !withImages.endsWith('\n');
  const source = open ? withImages + eol : withImages;
  const parsed = parseOverlay(source, file);
  const top = parsed.doc.contents;
  if (!isMap(top)) throw new OverlayError(file, 'not-a-kustomization', 'the template is empty');
  const refuse = (detail: string) => new OverlayError(file, 'unsupported', `${detail}; Slipway does not edit that (write the template without it)`);
  if ((top.items as Pair[]).some((p) => isScalar(p.key) && p.key.value === '<<')) throw refuse('the template uses a merge key (<<) at the top level');

  const splices: Splice[] = [...namespaceSplices(source, file, parsed, top, input.namespace, refuse)];
  for (const key of PATH_KEYS) splices.push(...pathSplices(file, parsed, top, key, rewrite, refuse));
  const spliced = applySplices(source, splices);
  const text = open && spliced.endsWith(eol) ? spliced.slice(0, -eol.length) : spliced;

  checkPreview(withImages, text, `${previewDir.join('/')}/kustomization.yaml`, input.namespace, rewrite);
  return text;
}

function folder(dir: string, what: string): string[] {
  const segments = pathSegments(dir.replace(/\\/g, '/'));
  if (dir.startsWith('/') || segments.length === 0 || segments.includes('..')) {
    throw new PreviewInputError(`the ${what} folder "${dir}" must be a folder inside the GitOps repository (relative, no "..")`);
  }
  return segments;
}

// ---------------------------------------------------------------- paths

/** The entry as the preview's kustomization must write it; undefined for an entry that is no local path (kept). */
type Rewrite = (entry: string) => string | undefined;

function entryRewriter(templateDir: string[], previewDir: string[]): Rewrite {
  return (entry) => {
    if (entry === '' || entry.startsWith('/') || isRemote(entry)) return undefined;
    const target = resolveFrom(templateDir.join('/'), entry);
    // Inside the template's folder: the copy next to the preview's kustomization (see above).
    const value = isWithin(target, templateDir) ? relativePath(templateDir, target) : relativePath(previewDir, target);
    // An entry already naming its target as the preview needs it (`./ingress.yaml` for `ingress.yaml`) keeps its text.
    return pathSegments(value).join('/') === pathSegments(entry).join('/') ? entry : value;
  };
}

/** Kustomize's remote targets: URLs, `git@host:…`, `git::…`, and `host/org/repo//dir?ref=…` forms. */
function isRemote(entry: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) || /^git(@|::)/.test(entry) || entry.includes('//') || entry.includes('?ref=') || /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(entry);
}

// ---------------------------------------------------------------- splices

interface Splice {
  start: number;
  end: number;
  insert: string;
}

type Refuse = (detail: string) => OverlayError;

function namespaceSplices(text: string, file: string, parsed: ParsedOverlay, top: YAMLMap, namespace: string, refuse: Refuse): Splice[] {
  const inFlow = top.srcToken?.type === 'flow-collection';
  const pair = (top.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === 'namespace');
  if (!pair) return [newNamespacePair(text, top, `namespace: ${renderScalar(namespace, 'PLAIN', inFlow)}`, inFlow, refuse)];
  const value = pair.value as Node | null;
  const empty = value === null || value === undefined || (isScalar(value) && value.value === null && value.range?.[0] === value.range?.[1]);
  if (empty) {
    const indicator = pair.srcToken?.sep?.find((t) => t.type === 'map-value-ind');
    if (!indicator) throw refuse('the template writes `namespace` without a `:`');
    return [{ start: indicator.offset + 1, end: indicator.offset + 1, insert: ` ${renderScalar(namespace, 'PLAIN', inFlow)}` }];
  }
  if (isAlias(value)) return [{ start: value.range![0], end: value.range![1], insert: renderScalar(namespace, 'PLAIN', inFlow) }];
  if (!isScalar(value)) throw new OverlayError(file, 'not-a-kustomization', '`namespace:` is not a plain value');
  const anchor = sharedAnchor(parsed, value);
  if (anchor) throw refuse(`\`namespace:\` is anchored as &${anchor} and used elsewhere as *${anchor}`);
  return [{ start: value.range![0], end: value.range![1], insert: renderValue(namespace, value, inFlow, refuse) }];
}

/** Where kustomize's own files have it: after leading `apiVersion:`/`kind:`, else first. */
function newNamespacePair(text: string, top: YAMLMap, pair: string, inFlow: boolean, refuse: Refuse): Splice {
  const items = top.items as Pair[];
  let lead = 0;
  while (lead < items.length && isScalar(items[lead]!.key) && ['apiVersion', 'kind'].includes(String((items[lead]!.key as Scalar).value))) lead++;
  const column = (at: number) => at - (text.lastIndexOf('\n', at - 1) + 1);
  if (lead > 0) {
    const after = items[lead - 1]!;
    if (inFlow) {
      const at = (after.value as Node | null)?.range?.[1] ?? (after.key as Node).range![1];
      return { start: at, end: at, insert: `, ${pair}` };
    }
    const at = pairLinesEnd(text, after.srcToken!);
    return { start: at, end: at, insert: `${' '.repeat(column((after.key as Node).range![0]))}${pair}${lineEnding(text)}` };
  }
  const at = (items[0]?.key as Node | null | undefined)?.range?.[0];
  if (at === undefined) {
    // `{}`: the pair goes inside the braces.
    const open = top.srcToken?.type === 'flow-collection' ? top.srcToken.start.offset + 1 : undefined;
    if (open === undefined) throw refuse('the template has a top level that is neither a block nor a flow mapping');
    return { start: open, end: open, insert: ` ${pair} ` };
  }
  if (inFlow) return { start: at, end: at, insert: `${pair}, ` };
  return { start: at, end: at, insert: `${pair}${lineEnding(text)}${' '.repeat(column(at))}` };
}

function pathSplices(file: string, parsed: ParsedOverlay, top: YAMLMap, key: string, rewrite: Rewrite, refuse: Refuse): Splice[] {
  const list = top.get(key, true) as Node | undefined | null;
  if (list === undefined || list === null || (isScalar(list) && list.value === null)) return [];
  if (isAlias(list)) throw refuse(`\`${key}:\` is an alias (${list.toString()})`);
  if (!isSeq(list)) throw new OverlayError(file, 'not-a-kustomization', `\`${key}:\` is not a list`);
  const inFlow = list.flow === true;
  const splices: Splice[] = [];
  for (const [i, item] of list.items.entries()) {
    if (isAlias(item)) throw refuse(`${key}[${i}] is an alias (${item.toString()})`);
    const entry = scalarText(item);
    if (!isScalar(item) || entry === undefined) throw new OverlayError(file, 'not-a-kustomization', `${key}[${i}] is not a path`);
    const wanted = rewrite(entry);
    if (wanted === undefined || wanted === entry) continue;
    const anchor = sharedAnchor(parsed, item) ?? sharedAnchor(parsed, list);
    if (anchor) throw refuse(`\`${key}:\` is anchored as &${anchor} and used elsewhere as *${anchor}`);
    splices.push({ start: item.range![0], end: item.range![1], insert: renderValue(wanted, item, inFlow, refuse) });
  }
  return splices;
}

/** The value in the style the scalar it replaces is written in; plain paths (`../../base`) stay plain. */
function renderValue(value: string, node: { type?: string }, inFlow: boolean, refuse: Refuse): string {
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') throw refuse(`the value "${value}" would replace a block scalar (| or >)`);
  const style: ScalarStyle = node.type === 'QUOTE_SINGLE' ? 'QUOTE_SINGLE' : node.type === 'QUOTE_DOUBLE' ? 'QUOTE_DOUBLE' : 'PLAIN';
  if (style === 'PLAIN' && plainPath(value)) return value;
  return renderScalar(value, style, inFlow);
}

/**
 * Paths start with `.` (which isPlainSafe, made for image fields, refuses); written plain they
 * read back as the same string under YAML 1.1 and 1.2 as long as they hold no YAML syntax.
 */
function plainPath(value: string): boolean {
  if (!/^[A-Za-z0-9_./][A-Za-z0-9_./-]*$/.test(value)) return false;
  return (['1.1', '1.2'] as const).every((version) => {
    const doc = parseDocument(value, { version });
    return doc.errors.length === 0 && isScalar(doc.contents) && doc.contents.value === value;
  });
}

function sharedAnchor(parsed: ParsedOverlay, node: unknown): string | undefined {
  const anchor = (node as { anchor?: string } | null)?.anchor;
  return anchor !== undefined && parsed.aliasedAnchors.has(anchor) ? anchor : undefined;
}

function applySplices(text: string, splices: Splice[]): string {
  let out = text;
  for (const s of [...splices].sort((a, b) => b.start - a.start)) out = out.slice(0, s.start) + s.insert + out.slice(s.end);
  return out;
}

// ---------------------------------------------------------------- the check

/**
 * The result, read again under YAML 1.2 and 1.1 (kustomize's): the preview's namespace, the path
 * entries rewritten, and everything else — images included, as the overlay editor set them —
 * meaning what it meant in `before`. Anything else is an error, never a file.
 */
function checkPreview(before: string, after: string, file: string, namespace: string, rewrite: Rewrite): void {
  const problems: string[] = [];
  for (const version of ['1.2', '1.1'] as const) {
    const doc = parseDocument(after, { version, prettyErrors: false });
    if (doc.errors.length > 0) {
      problems.push(`it does not parse as YAML ${version}: ${doc.errors[0]!.message.split('\n')[0]}`);
      continue;
    }
    const expected = parseDocument(before, { version }).toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
    expected.namespace = namespace;
    for (const key of PATH_KEYS) {
      const list = expected[key];
      if (Array.isArray(list)) expected[key] = list.map((entry) => (typeof entry === 'string' ? (rewrite(entry) ?? entry) : entry));
    }
    const got = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
    for (const key of new Set([...Object.keys(expected), ...Object.keys(got)])) {
      if (canonical(got[key]) !== canonical(expected[key])) problems.push(`\`${key}\` reads as ${canonical(got[key])}, not ${canonical(expected[key])}, in YAML ${version}`);
    }
  }
  if (problems.length > 0) throw new OverlayError(file, 'edit-invalid', `the preview overlay would not be the intended one: ${problems.slice(0, 3).join('; ')}`);
}

/** JSON with object keys sorted: the same data gives the same text whatever the key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
