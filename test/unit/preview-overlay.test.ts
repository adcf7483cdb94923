/**
 * The preview overlay made from a template (core/preview-overlay.ts), on generated templates: the
 * overlays of test/support/overlay-arbitraries.ts (every scalar style, comments, flow and block,
 * CRLF) with a generated `namespace:` (absent, set, empty), `nameSuffix`, `commonLabels` and
 * `resources:`/`components:` lists whose entries leave the template's folder, stay inside it, or
 * are remote. Where each entry leads is checked with node:path, not with the module's own path code.
 * Rendering with the real kustomize is in test/integration/preview-overlay-kustomize.test.ts.
 *
 * A failure prints fast-check's seed and path; SLIPWAY_PROPERTY_SEED=<seed> replays the run.
 */
import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import type { ImageSetting } from '../../core/images.js';
import { OverlayError, setOverlayImages } from '../../core/overlay.js';
import { PreviewInputError, previewName, previewOverlay, previewPatternProblem } from '../../core/preview-overlay.js';
import { overlayModel, promotionFor, renderOverlay } from '../support/overlay-arbitraries.js';

const seed = process.env.SLIPWAY_PROPERTY_SEED ? Number(process.env.SLIPWAY_PROPERTY_SEED) : undefined;
const runs = { numRuns: 300, ...(seed !== undefined ? { seed } : {}) };

type Json = Record<string, unknown>;

// ---------------------------------------------------------------- generated templates

const DIRS = fc.constantFrom(
  { templateDir: 'overlays/preview-template', previewDir: 'overlays/previews/pr-12' },
  { templateDir: 'apps/todo/overlays/preview', previewDir: 'apps/todo/previews/pr-7' },
  { templateDir: 'preview-template', previewDir: 'previews/todoapp/pr-3' },
  { templateDir: 'a/b/c/template', previewDir: 'a/pr-1' },
  { templateDir: 'overlays/preview-template', previewDir: 'overlays/pr-9' },
);
const REMOTE = ['https://github.com/org/repo//deploy?ref=v1.2.0', 'github.com/org/shared/base?ref=main', 'git@github.com:org/repo.git//x'];
const ABSOLUTE = ['/srv/manifests/base'];

/** A path written in the template: up some folders (through the template's own name, sometimes), then down. */
const localPath = (templateName: string) =>
  fc
    .record({
      ups: fc.nat(3),
      through: fc.boolean(),
      down: fc.array(fc.constantFrom('base', 'shared', 'postgres', 'ingress.yaml', 'sub', '..', '.'), { minLength: 1, maxLength: 3 }),
      dot: fc.boolean(),
      slash: fc.boolean(),
    })
    .map(({ ups, through, down, dot, slash }) => {
      const parts = [...Array<string>(ups).fill('..'), ...(through && ups > 0 ? [templateName] : []), ...down];
      const text = (dot && ups === 0 ? './' : '') + parts.join('/') + (slash ? '/' : '');
      return text;
    })
    .filter((p) => posix.normalize(p) !== '.' && posix.normalize(p) !== './');

type PathStyle = 'plain' | 'single' | 'double';
const styledPath = (templateName: string) =>
  fc.record({
    text: fc.oneof({ weight: 6, arbitrary: localPath(templateName) }, { weight: 1, arbitrary: fc.constantFrom(...REMOTE, ...ABSOLUTE) }),
    style: fc.constantFrom<PathStyle>('plain', 'plain', 'single', 'double'),
    comment: fc.boolean(),
  });

const pathList = (templateName: string) => fc.record({ flow: fc.boolean(), entries: fc.array(styledPath(templateName), { minLength: 1, maxLength: 4 }) });

const namespaceLine = fc.constantFrom(undefined, 'namespace: todoapp-staging', "namespace: 'old'  # the template's", 'namespace:', 'namespace: ~', 'namespace: "123"');

function quoted(text: string, style: PathStyle): string {
  if (style === 'single') return `'${text}'`;
  if (style === 'double') return JSON.stringify(text);
  // A plain entry that is not a plain string in both YAML versions is written as people do: quoted.
  return /^[A-Za-z0-9_./-]+$/.test(text) && !/^-/.test(text) ? text : JSON.stringify(text);
}

function listText(key: string, list: { flow: boolean; entries: Array<{ text: string; style: PathStyle; comment: boolean }> }): string[] {
  if (list.flow) return [`${key}: [${list.entries.map((e) => quoted(e.text, e.style)).join(', ')}]`];
  return [`${key}:`, ...list.entries.map((e, i) => `- ${quoted(e.text, e.style)}${e.comment ? `  # entry ${i}` : ''}`)];
}

const sample = fc
  .record({
    dirs: DIRS,
    model: overlayModel,
    namespace: namespaceLine,
    nameSuffix: fc.boolean(),
    labels: fc.constantFrom('none', 'block', 'flow'),
    componentsToo: fc.boolean(),
    previewNamespace: fc.constantFrom('todoapp-pr-12', 'pr-7', '123', 'on', 'y'),
  })
  .chain((s) => {
    const name = posix.basename(s.dirs.templateDir);
    return fc.record({ resources: pathList(name), components: pathList(name), images: promotionFor(s.model) }).map((lists) => ({ ...s, ...lists }));
  })
  .map((s) => {
    const rendered = renderOverlay(s.model);
    const eol = s.model.crlf ? '\r\n' : '\n';
    const section = [
      ...(s.namespace ? [s.namespace] : []),
      ...(s.nameSuffix ? ['nameSuffix: -preview'] : []),
      ...(s.labels === 'block' ? ['commonLabels:', '  app.kubernetes.io/part-of: todoapp # always', '  tier: "web"'] : s.labels === 'flow' ? ['commonLabels: {preview: "true", team: platform}'] : []),
      ...listText('resources', s.resources),
      ...(s.componentsToo ? listText('components', s.components) : []),
    ].join(eol);
    const template = rendered.text.replace(/resources: \[\.\.\/base\] {2}# the app|resources:\r?\n- \.\.\/base/, section);
    return { ...s, template };
  });

/** The document as data under YAML 1.1 (kustomize's) and 1.2, which must agree here. */
function data(text: string): Json {
  for (const version of ['1.1', '1.2'] as const) {
    const doc = parseDocument(text, { version });
    if (doc.errors.length > 0) throw new Error(`YAML ${version} does not parse: ${doc.errors[0]!.message}\n${text}`);
  }
  const js = parse(text, { version: '1.1' }) as Json;
  expect(parse(text, { version: '1.2' })).toEqual(js);
  return js;
}

/** An entry of `images:` after a setting: newName when given, tag and digest exactly as given. */
function setEntry(old: Json, setting: ImageSetting | undefined): Json {
  if (!setting) return old;
  const out: Json = { ...old };
  if (setting.newName !== undefined) out.newName = setting.newName;
  for (const f of ['newTag', 'digest'] as const) {
    if (setting[f] !== undefined) out[f] = setting[f];
    else delete out[f];
  }
  return out;
}

const remote = (entry: string) => REMOTE.includes(entry) || ABSOLUTE.includes(entry);
const at = (dir: string, entry: string) => posix.normalize(posix.join(dir, entry)).replace(/\/$/, '');

describe('previewOverlay on generated templates (property)', () => {
  it('the result parses, holds the namespace and the images, keeps every other key, and each path leads where the template\'s did', () => {
    fc.assert(
      fc.property(sample, (s) => {
        const { templateDir, previewDir } = s.dirs;
        const out = previewOverlay({ template: s.template, templateDir, previewDir, namespace: s.previewNamespace, images: s.images });
        const was = data(s.template);
        const now = data(out);

        expect(now.namespace).toBe(s.previewNamespace);
        const wanted = new Map(s.images.map((i) => [i.name, i]));
        expect(now.images).toEqual((was.images as Json[]).map((e) => setEntry(e, wanted.get(e.name as string))));

        const { namespace: _n1, images: _i1, resources: r1, components: c1, ...restWas } = was;
        const { namespace: _n2, images: _i2, resources: r2, components: c2, ...restNow } = now;
        expect(restNow).toEqual(restWas);
        expect(Object.keys(now).sort()).toEqual([...new Set([...Object.keys(was), 'namespace'])].sort());

        for (const [before, after] of [[r1, r2], [c1, c2]] as Array<[string[] | undefined, string[] | undefined]>) {
          expect(after?.length).toBe(before?.length);
          for (const [i, entry] of (before ?? []).entries()) {
            const written = after![i]!;
            if (remote(entry)) {
              expect(written).toBe(entry);
              continue;
            }
            const target = at(templateDir, entry);
            const inside = target === templateDir || target.startsWith(`${templateDir}/`);
            if (inside) {
              // A template file: the preview's copy of it, next to its kustomization.
              const local = posix.relative(templateDir, target) || '.';
              expect(at(previewDir, written)).toBe(at(previewDir, local));
            } else {
              expect(at(previewDir, written)).toBe(target);
            }
          }
        }

        // Comments stay: all that the image edit itself keeps (it drops one on a removed field's line), in order; and the line endings.
        const comments = (text: string) => text.match(/#[^\r\n]*/g) ?? [];
        expect(comments(out)).toEqual(comments(setOverlayImages(s.template, 'template', s.images).text));
        expect(out.includes('\r\n')).toBe(s.model.crlf);
        if (s.model.crlf) expect(out.replace(/\r\n/g, '')).not.toContain('\n');
        expect(out.endsWith('\n')).toBe(s.template.endsWith('\n'));
      }),
      runs,
    );
  });
});

// ---------------------------------------------------------------- examples

const TEMPLATE = [
  '# The preview of a pull request: Slipway copies this per pull request.',
  'apiVersion: kustomize.config.k8s.io/v1beta1',
  'kind: Kustomization',
  'nameSuffix: -preview',
  'commonLabels:',
  '  app.kubernetes.io/part-of: todoapp # always',
  'resources:',
  '- ../base # the app',
  '- ingress.yaml',
  'images:',
  '- name: todoapp/frontend',
  '  newTag: placeholder',
  '- name: todoapp/backend',
  '  newTag: "1.20"',
  '',
].join('\n');
const PR = { templateDir: 'overlays/preview-template', previewDir: 'overlays/previews/pr-12' };

describe('previewOverlay', () => {
  it('sets the namespace after kind, the images given, rewrites ../base to ../../base and leaves the rest byte for byte', () => {
    const out = previewOverlay({ ...PR, template: TEMPLATE, namespace: 'todoapp-pr-12', images: [{ name: 'todoapp/frontend', newTag: '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567' }] });
    expect(out).toBe(
      TEMPLATE.replace('kind: Kustomization\n', 'kind: Kustomization\nnamespace: todoapp-pr-12\n')
        .replace('- ../base # the app', '- ../../base # the app')
        .replace('newTag: placeholder', 'newTag: 3f2a9c1d4e5f60718293a4b5c6d7e8f901234567'),
    );
  });

  it("replaces the template's namespace in its own style, and fills an empty one", () => {
    const set = (template: string, namespace: string) => previewOverlay({ ...PR, template, namespace, images: [] });
    expect(set("namespace: 'staging' # from the template\nresources: [../base]\n", 'pr-12')).toBe("namespace: 'pr-12' # from the template\nresources: [../../base]\n");
    expect(set('namespace: # set per preview\nresources: [../base]\n', 'pr-12')).toBe('namespace: pr-12 # set per preview\nresources: [../../base]\n');
    expect(set('{resources: [../base]}', 'pr-12')).toBe('{namespace: pr-12, resources: [../../base]}');
  });

  it('quotes a namespace YAML would read as something else than a string (123, on)', () => {
    for (const namespace of ['123', 'on', 'y']) {
      const out = previewOverlay({ ...PR, template: 'resources:\n- ../base\n', namespace, images: [] });
      expect(out).toBe(`namespace: "${namespace}"\nresources:\n- ../../base\n`);
      expect(parse(out, { version: '1.1' }).namespace).toBe(namespace);
    }
  });

  it('keeps remote and absolute entries, and entries that already lead to the same folder', () => {
    const template = 'resources:\n- https://github.com/org/repo//deploy?ref=v1\n- /srv/base\n- ../shared\n';
    const out = previewOverlay({ templateDir: 'overlays/preview-template', previewDir: 'overlays/pr-12', template, namespace: 'pr-12', images: [] });
    expect(out).toBe(`namespace: pr-12\n${template}`);
  });

  it('an image the template has no entry for is an error naming it, not a new entry', () => {
    const err = (() => {
      try {
        previewOverlay({ ...PR, template: TEMPLATE, namespace: 'pr-12', images: [{ name: 'todoapp/typo', newTag: 'abc' }] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(OverlayError);
    expect((err as OverlayError).reason).toBe('missing-image');
    expect((err as OverlayError).message).toContain('overlays/preview-template/kustomization.yaml: no entry for image "todoapp/typo"');
  });

  it('refuses a namespace that is no DNS-1123 label, and folders that overlap or leave the repository', () => {
    const make = (over: Partial<Parameters<typeof previewOverlay>[0]>) => () => previewOverlay({ ...PR, template: TEMPLATE, namespace: 'pr-12', images: [], ...over });
    expect(make({ namespace: 'PR_12' })).toThrow(PreviewInputError);
    expect(make({ namespace: 'PR_12' })).toThrow('the preview namespace "PR_12" is not a DNS-1123 label');
    expect(make({ namespace: 'a'.repeat(64) })).toThrow('more than the 63');
    expect(make({ previewDir: 'overlays/preview-template/pr-12' })).toThrow('must be apart');
    expect(make({ previewDir: '../elsewhere/pr-12' })).toThrow('must be a folder inside the GitOps repository');
  });

  it('refuses resources shared through an anchor, which an edit would change in both places', () => {
    const template = 'resources: &r\n- ../base\ncomponents: *r\n';
    expect(() => previewOverlay({ ...PR, template, namespace: 'pr-12', images: [] })).toThrow(/`resources:` is anchored as &r/);
  });
});

describe('previewName', () => {
  it('fills {number} and {app}', () => {
    expect(previewName('pr-{number}', { number: 12, app: 'todoapp' })).toBe('pr-12');
    expect(previewName('{app}-pr-{number}', { number: 7, app: 'todoapp' })).toBe('todoapp-pr-7');
  });

  it('refuses a name that is no DNS-1123 label, saying which name the pattern gave', () => {
    expect(() => previewName('PR-{number}', { number: 12, app: 'todoapp' })).toThrow('the preview name pattern "PR-{number}" gives "PR-12" for pull request #12 of todoapp, which is not a DNS-1123 label');
    expect(() => previewName(`{app}-${'x'.repeat(60)}-{number}`, { number: 1, app: 'todoapp' })).toThrow('more than the 63');
    expect(() => previewName('pr-{number}-', { number: 1, app: 'todoapp' })).toThrow(PreviewInputError);
  });

  it('refuses patterns without {number}, with unknown placeholders or unmatched braces, and numbers that are no pull request', () => {
    expect(previewPatternProblem('preview')).toContain('has no {number}');
    expect(() => previewName('{app}', { number: 1, app: 'todoapp' })).toThrow('every pull request would get the same preview');
    expect(() => previewName('pr-{num}', { number: 1, app: 'todoapp' })).toThrow('has {num}; only {number} and {app} are known');
    expect(() => previewName('pr-{number', { number: 1, app: 'todoapp' })).toThrow(/unmatched|no \{number\}/);
    expect(() => previewName('pr-{number}', { number: 0, app: 'todoapp' })).toThrow('positive whole number');
    expect(() => previewName('pr-{number}', { number: 1.5, app: 'todoapp' })).toThrow('positive whole number');
    expect(previewPatternProblem('{app}-pr-{number}')).toBeUndefined();
  });
});
