/**
 * fast-check generators of kustomization.yaml overlays in the shapes people and tools write:
 * keys in any order (kustomize's alphabetical one included), every scalar style, comments between
 * and after keys, block and flow entries and lists, CRLF, with and without a final line break,
 * entries with and without newTag, digest and newName. Each overlay is generated as a model and
 * rendered to text, so a test knows which bytes belong to which entry without parsing.
 *
 * Every generated overlay is a valid kustomization: values written plain are plain strings under
 * YAML 1.1 and 1.2 (kustomize reads with 1.1), anything else is quoted or a block scalar.
 */
import fc from 'fast-check';
import type { ImageSetting } from '../../core/images.js';

/** The images of the base the overlays point at (see overlayBase). */
export const IMAGE_NAMES = ['app', 'todoapp/frontend', 'registry.example.com/team/api', 'b'] as const;
export const FIELDS = ['newName', 'newTag', 'digest'] as const;
export type Field = (typeof FIELDS)[number];

export type Style = 'plain' | 'single' | 'double' | 'literal' | 'folded';
/** `safe`: a string in either YAML version when plain. Others need quotes or a block. */
export interface Value {
  text: string;
  safe: boolean;
}
export interface StyledValue extends Value {
  style: Style;
  comment?: string;
}

export interface EntryModel {
  name: string;
  fields: Partial<Record<Field, StyledValue>>;
  /** Key order, `name` included. */
  order: string[];
  flow: boolean;
  /** Flow entries: `{ a: b }` instead of `{a: b}`. */
  spaced: boolean;
  /** Block entries: a comment line before the key at this position (not the first). */
  commentBefore?: number;
  /** A blank line and/or a comment line after the entry. */
  blankAfter: boolean;
  commentAfter: boolean;
}

export interface OverlayModel {
  header: boolean;
  typeLines: boolean;
  resourcesFlow: boolean;
  imagesFirst: boolean;
  listIndent: 0 | 2;
  flowList: 'no' | 'one-line' | 'multi-line';
  entries: EntryModel[];
  trailer: boolean;
  crlf: boolean;
  finalNewline: boolean;
}

export interface RenderedOverlay {
  text: string;
  /** The text of each entry, exactly as it appears in `text`. */
  entryText: Map<string, string>;
  /** Everything before and after the `images:` section. */
  before: string;
  after: string;
}

// ---------------------------------------------------------------- values

const hex = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: min, maxLength: max });
/** Starts with a letter, so no YAML version reads it as anything but a string (but `e123`, a 1.1 float to some parsers). */
const safeTag = fc.oneof(
  fc
    .tuple(fc.constantFrom(...'abcdef'), hex(6, 39))
    .map(([a, b]) => a + b)
    .filter((t) => !/^e[0-9]+$/.test(t)),
  fc.tuple(fc.nat(30), fc.nat(30), fc.nat(30)).map(([a, b, c]) => `v${a}.${b}.${c}`),
  fc.constantFrom('latest', 'main-3f2a9c1', 'release_2024.10'),
);
/** Reads as a number, bool or null when plain (under 1.1, 1.2 or both). */
const unsafeTag = fc.oneof(fc.constantFrom('1.20', '0123456', '1_000', 'on', 'y', 'null', '2024.10', '1e10', 'e123456'), hex(7, 7).filter((h) => /^[0-9]+$/.test(h)));
export const tagValue: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: safeTag.map((text) => ({ text, safe: true })) },
  { weight: 1, arbitrary: unsafeTag.map((text) => ({ text, safe: false })) },
);
export const digestValue: fc.Arbitrary<Value> = hex(64, 64).map((h) => ({ text: `sha256:${h}`, safe: true }));
export const nameValue: fc.Arbitrary<Value> = fc
  .tuple(fc.constantFrom('registry.example.com', 'ghcr.io', 'mirror.local:5000'), fc.constantFrom('team', 'acme/apps'), safeTag)
  .map(([host, path, leaf]) => ({ text: `${host}/${path}/${leaf.slice(0, 12)}`, safe: true }));
const valueOf: Record<Field, fc.Arbitrary<Value>> = { newName: nameValue, newTag: tagValue, digest: digestValue };

function styled(value: fc.Arbitrary<Value>, flow: boolean): fc.Arbitrary<StyledValue> {
  const styles: Style[] = flow ? ['plain', 'single', 'double'] : ['plain', 'single', 'double', 'literal', 'folded'];
  return fc.record({ v: value, style: fc.constantFrom(...styles), comment: fc.option(fc.constantFrom('# pinned', '# see JIRA-42', '#tight'), { nil: undefined }) }).map(
    ({ v, style, comment }) => ({
      ...v,
      // A value that is not a string when plain is quoted, as a working overlay has it.
      style: style === 'plain' && !v.safe ? 'double' : style,
      // Comments only where they need a space before them: not in flow entries.
      comment: flow ? undefined : comment,
    }),
  );
}

// ---------------------------------------------------------------- entries and overlays

function entry(name: string, flow: boolean): fc.Arbitrary<EntryModel> {
  return fc
    .record({
      present: fc.subarray([...FIELDS]),
      values: fc.record({ newName: styled(valueOf.newName, flow), newTag: styled(valueOf.newTag, flow), digest: styled(valueOf.digest, flow) }),
      alphabetical: fc.boolean(),
      shuffle: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
      spaced: fc.boolean(),
      commentBefore: fc.option(fc.nat(3), { nil: undefined }),
      blankAfter: fc.boolean(),
      commentAfter: fc.boolean(),
    })
    .map(({ present, values, alphabetical, shuffle, spaced, commentBefore, blankAfter, commentAfter }) => {
      const fields: EntryModel['fields'] = {};
      for (const f of present) fields[f] = values[f];
      const keys = ['name', ...present];
      // kustomize writes keys sorted; people write them in any order.
      const order = alphabetical ? [...keys].sort() : keys.map((k, i) => [k, shuffle[i]!] as const).sort((a, b) => a[1] - b[1]).map(([k]) => k);
      return {
        name,
        fields,
        order,
        flow,
        spaced,
        commentBefore: !flow && commentBefore !== undefined && commentBefore > 0 && commentBefore < order.length ? commentBefore : undefined,
        blankAfter,
        commentAfter,
      };
    });
}

export const overlayModel: fc.Arbitrary<OverlayModel> = fc
  .record({
    header: fc.boolean(),
    typeLines: fc.boolean(),
    resourcesFlow: fc.boolean(),
    imagesFirst: fc.boolean(),
    listIndent: fc.constantFrom(0 as const, 2 as const),
    flowList: fc.constantFrom('no' as const, 'no' as const, 'one-line' as const, 'multi-line' as const),
    names: fc.shuffledSubarray([...IMAGE_NAMES], { minLength: 1 }),
    flowEntries: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    trailer: fc.boolean(),
    crlf: fc.boolean(),
    finalNewline: fc.boolean(),
  })
  .chain(({ names, flowEntries, flowList, ...rest }) =>
    fc.tuple(...names.map((name, i) => entry(name, flowList !== 'no' || flowEntries[i]!))).map((entries) => ({ ...rest, flowList, entries })),
  );

// ---------------------------------------------------------------- rendering

function scalar(v: StyledValue, column: number): string {
  switch (v.style) {
    case 'plain':
      return v.text;
    case 'single':
      return `'${v.text.replace(/'/g, "''")}'`;
    case 'double':
      return JSON.stringify(v.text);
    case 'literal':
    case 'folded':
      return `${v.style === 'literal' ? '|' : '>'}-${v.comment ? ` ${v.comment}` : ''}\n${' '.repeat(column + 2)}${v.text}`;
  }
}

function pairText(e: EntryModel, key: string, column: number): string {
  if (key === 'name') return `name: ${e.name}`;
  const v = e.fields[key as Field]!;
  const block = v.style === 'literal' || v.style === 'folded';
  return `${key}: ${scalar(v, column)}${v.comment && !block ? ` ${v.comment}` : ''}`;
}

function flowEntryText(e: EntryModel): string {
  const pairs = e.order.map((k) => pairText(e, k, 0)).join(', ');
  return e.spaced ? `{ ${pairs} }` : `{${pairs}}`;
}

function blockEntryText(e: EntryModel, indent: number): string {
  const column = indent + 2;
  const lines: string[] = [];
  e.order.forEach((key, i) => {
    if (i === e.commentBefore) lines.push(`${' '.repeat(column)}# about ${key}`);
    lines.push(`${i === 0 ? `${' '.repeat(indent)}- ` : ' '.repeat(column)}${pairText(e, key, column)}`);
  });
  return lines.join('\n');
}

export function renderOverlay(m: OverlayModel): RenderedOverlay {
  const entryText = new Map<string, string>();
  let images: string;
  if (m.flowList !== 'no') {
    const parts = m.entries.map((e) => {
      const t = flowEntryText(e);
      entryText.set(e.name, t);
      return t;
    });
    images = m.flowList === 'one-line' ? `images: [${parts.join(', ')}]` : `images: [\n${parts.map((p) => `  ${p}`).join(',\n')}\n]`;
  } else {
    const lines = ['images:'];
    m.entries.forEach((e, i) => {
      const t = e.flow ? `${' '.repeat(m.listIndent)}- ${flowEntryText(e)}` : blockEntryText(e, m.listIndent);
      entryText.set(e.name, t.slice(m.listIndent + 2));
      lines.push(t);
      if (i < m.entries.length - 1) {
        if (e.blankAfter) lines.push('');
        if (e.commentAfter) lines.push(`${' '.repeat(m.listIndent)}# next: ${m.entries[i + 1]!.name}`);
      }
    });
    images = lines.join('\n');
  }
  const head = [
    ...(m.header ? ['# Overlay for one environment. Slipway writes the tags; people review them.'] : []),
    ...(m.typeLines ? ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization'] : []),
  ];
  const resources = m.resourcesFlow ? ['resources: [../base]  # the app'] : ['resources:', '- ../base'];
  const trailer = m.trailer ? ['commonAnnotations:', '  team: "platform" # who to ask'] : [];
  const beforeLines = m.imagesFirst ? head : [...head, ...resources];
  const afterLines = m.imagesFirst ? [...resources, ...trailer] : trailer;
  const eol = m.crlf ? '\r\n' : '\n';
  const join = (lines: string[]) => lines.join('\n').replace(/\n/g, eol);
  const before = beforeLines.length > 0 ? join(beforeLines) + eol : '';
  const end = m.finalNewline ? eol : '';
  const after = afterLines.length > 0 ? eol + join(afterLines) + end : end;
  for (const [name, t] of entryText) entryText.set(name, t.replace(/\n/g, eol));
  return { text: before + join([images]) + after, entryText, before, after };
}

// ---------------------------------------------------------------- promotions

/** What a promotion writes: for some entries, a new tag and/or digest, sometimes a new name. */
export function promotionFor(m: OverlayModel): fc.Arbitrary<ImageSetting[]> {
  const names = m.entries.map((e) => e.name);
  return fc.shuffledSubarray(names, { minLength: 1 }).chain((chosen) =>
    fc.tuple(
      ...chosen.map((name) =>
        fc
          .record({ which: fc.constantFrom('tag', 'digest', 'both'), tag: tagValue, digest: digestValue, newName: fc.option(nameValue, { nil: undefined }) })
          .map(({ which, tag, digest, newName }): ImageSetting => ({
            name,
            ...(newName ? { newName: newName.text } : {}),
            ...(which !== 'digest' ? { newTag: tag.text } : {}),
            ...(which !== 'tag' ? { digest: digest.text } : {}),
          })),
      ),
    ),
  );
}

/** A base for the overlays: one Deployment whose containers use every name in IMAGE_NAMES, tagged `old`. */
export function overlayBase(): Record<string, string> {
  const containers = IMAGE_NAMES.map((name, i) => `      - name: c${i}\n        image: ${name}:old`).join('\n');
  return {
    'kustomization.yaml': 'resources:\n- deployment.yaml\n',
    'deployment.yaml': `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n${containers}\n`,
  };
}

/** The image kustomize renders for a container of `name` given an entry's setting. */
export function renderedImage(setting: ImageSetting | undefined, name: string): string {
  if (!setting) return `${name}:old`;
  const base = setting.newName ?? name;
  const tag = setting.newTag !== undefined ? `:${setting.newTag}` : setting.digest !== undefined ? '' : ':old';
  return `${base}${tag}${setting.digest !== undefined ? `@${setting.digest}` : ''}`;
}
