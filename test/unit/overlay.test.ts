import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';
import {
  OverlayError,
  editOverlayImages,
  exactImageEdit,
  listOverlayImages,
  overlayEditProblems,
  overlayHolds,
  readOverlayImages,
  setOverlayImages,
  verifyOverlayEdit,
} from '../../core/overlay.js';

const FILE = '1.2/overlays/staging/kustomization.yaml';

const STAGING = `# Staging overlay: written by Slipway, reviewed by people.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: staging   # one namespace per environment

resources:
  - ../../base

images:
  # the web UI
  - name: todoapp/frontend
    newTag: 1.20       # quoted-looking number stays a string
  - name: todoapp/backend
    newName: registry.example.com/todoapp/backend
    newTag: 'abc123'
  - name: todoapp/backend-todos
    newTag: "abc123"
    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000
  - { name: todoapp/broadcaster, newTag: abc123 }
patches:
  - path: broadcaster-log-only.yaml
`;

/** Lines of `after` that differ from `before` (same line count expected). */
function changedLines(before: string, after: string): Array<[string, string]> {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b.length).toBe(a.length);
  return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]!] as [string, string]]));
}

describe('readOverlayImages', () => {
  it('reads each requested image as written, in the order asked', () => {
    expect(readOverlayImages(STAGING, FILE, ['todoapp/broadcaster', 'todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos'])).toEqual([
      { name: 'todoapp/broadcaster', newTag: 'abc123' },
      { name: 'todoapp/frontend', newTag: '1.20' },
      { name: 'todoapp/backend', newName: 'registry.example.com/todoapp/backend', newTag: 'abc123' },
      {
        name: 'todoapp/backend-todos',
        newTag: 'abc123',
        digest: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
      },
    ]);
  });

  it('lists all entries', () => {
    expect(listOverlayImages(STAGING, FILE).map((i) => i.name)).toHaveLength(4);
  });

  it('names the file and the image when the image has no entry', () => {
    const err = captureError(() => readOverlayImages(STAGING, FILE, ['todoapp/worker']));
    expect(err).toBeInstanceOf(OverlayError);
    expect(err.reason).toBe('missing-image');
    expect(err.image).toBe('todoapp/worker');
    expect(err.message).toContain(FILE);
    expect(err.message).toContain('todoapp/worker');
  });

  it('treats an overlay without images: as missing every image', () => {
    const err = captureError(() => readOverlayImages('resources:\n  - ../../base\n', FILE, ['todoapp/frontend']));
    expect(err.reason).toBe('missing-image');
  });

  it('rejects YAML that does not parse, naming the file', () => {
    const err = captureError(() => readOverlayImages('images:\n  - name: [unclosed\n', FILE, ['todoapp/frontend']));
    expect(err.reason).toBe('syntax');
    expect(err.message).toContain(FILE);
  });

  it('rejects a top level that is not a mapping and an images: that is not a list', () => {
    expect(captureError(() => readOverlayImages('- a\n- b\n', FILE, ['x'])).reason).toBe('not-a-kustomization');
    expect(captureError(() => readOverlayImages('images: nope\n', FILE, ['x'])).reason).toBe('not-a-kustomization');
  });

  it('rejects duplicate entries for one image', () => {
    const text = 'images:\n  - name: a\n    newTag: "1"\n  - name: a\n    newTag: "2"\n';
    expect(captureError(() => readOverlayImages(text, FILE, ['a'])).reason).toBe('duplicate-image');
  });
});

describe('setOverlayImages', () => {
  it('changes only the tag values; every other byte stays as it was', () => {
    const { text, changed } = setOverlayImages(STAGING, FILE, [
      { name: 'todoapp/frontend', newTag: '3f2a9c1' },
      { name: 'todoapp/backend', newTag: '3f2a9c1' },
      { name: 'todoapp/broadcaster', newTag: '3f2a9c1' },
    ]);
    expect(changed).toBe(true);
    expect(changedLines(STAGING, text)).toEqual([
      ['    newTag: 1.20       # quoted-looking number stays a string', '    newTag: 3f2a9c1       # quoted-looking number stays a string'],
      ["    newTag: 'abc123'", "    newTag: '3f2a9c1'"],
      ['  - { name: todoapp/broadcaster, newTag: abc123 }', '  - { name: todoapp/broadcaster, newTag: 3f2a9c1 }'],
    ]);
    expect(readOverlayImages(text, FILE, ['todoapp/backend'])[0]!.newName).toBe('registry.example.com/todoapp/backend');
  });

  it('quotes values YAML would otherwise read as numbers or booleans', () => {
    const { text } = setOverlayImages(STAGING, FILE, [
      { name: 'todoapp/frontend', newTag: '1.30' },
      { name: 'todoapp/broadcaster', newTag: 'true' },
    ]);
    const images = parse(text).images as Array<{ name: string; newTag: unknown }>;
    expect(images.find((i) => i.name === 'todoapp/frontend')!.newTag).toBe('1.30');
    expect(images.find((i) => i.name === 'todoapp/broadcaster')!.newTag).toBe('true');
    expect(readOverlayImages(text, FILE, ['todoapp/frontend'])).toEqual([{ name: 'todoapp/frontend', newTag: '1.30' }]);
  });

  it('keeps the quoting style of the value it replaces', () => {
    const { text } = setOverlayImages(STAGING, FILE, [{ name: 'todoapp/backend-todos', newTag: 'def456', digest: 'sha256:' + '1'.repeat(64) }]);
    expect(changedLines(STAGING, text)).toEqual([
      ['    newTag: "abc123"', '    newTag: "def456"'],
      [`    digest: sha256:${'0'.repeat(64)}`, `    digest: sha256:${'1'.repeat(64)}`],
    ]);
  });

  it('drops a stale digest when only a tag is given, so the new tag is what runs', () => {
    const { text } = setOverlayImages(STAGING, FILE, [{ name: 'todoapp/backend-todos', newTag: 'def456' }]);
    expect(text).toBe(STAGING.replace('newTag: "abc123"', 'newTag: "def456"').replace(/\n    digest: sha256:0+/, ''));
    expect(readOverlayImages(text, FILE, ['todoapp/backend-todos'])).toEqual([{ name: 'todoapp/backend-todos', newTag: 'def456' }]);
  });

  it('adds missing fields under the entry with its indentation, in alphabetical place when the keys are in that order', () => {
    const text = 'images:\n- name: a\n  newTag: x\n- name: b # keep\nfoo: bar\n';
    const out = setOverlayImages(text, FILE, [
      { name: 'b', newName: 'reg/b', newTag: 'v2' },
      { name: 'a', newTag: 'x', digest: 'sha256:' + 'a'.repeat(64) },
    ]).text;
    // Where `kustomize edit set image` puts them: digest before name.
    expect(out).toBe(`images:\n- digest: sha256:${'a'.repeat(64)}\n  name: a\n  newTag: x\n- name: b # keep\n  newName: reg/b\n  newTag: v2\nfoo: bar\n`);
    // Keys in another order: new ones go last.
    const unordered = 'images:\n  - newTag: x\n    name: a\n';
    expect(setOverlayImages(unordered, FILE, [{ name: 'a', newTag: 'x', digest: 'sha256:' + 'a'.repeat(64) }]).text).toBe(
      `images:\n  - newTag: x\n    name: a\n    digest: sha256:${'a'.repeat(64)}\n`,
    );
  });

  it('quotes what YAML 1.1 (kustomize) would not read as a string: y, on, 0123, 1_000', () => {
    for (const tag of ['y', 'on', 'NO', '0123', '1_000', '0b11', '1.5e3']) {
      const out = setOverlayImages('images:\n- name: a\n  newTag: v1\n', FILE, [{ name: 'a', newTag: tag }]).text;
      expect(out).toBe(`images:\n- name: a\n  newTag: "${tag}"\n`);
      expect(parse(out, { version: '1.1' }).images[0].newTag).toBe(tag);
    }
  });

  it('fills an empty value and handles a file without a final newline', () => {
    expect(setOverlayImages('images:\n  - name: a\n    newTag:\n', FILE, [{ name: 'a', newTag: 'v1' }]).text).toBe('images:\n  - name: a\n    newTag: v1\n');
    expect(setOverlayImages('images:\n  - name: a', FILE, [{ name: 'a', newTag: 'v1' }]).text).toBe('images:\n  - name: a\n    newTag: v1');
  });

  it('edits a flow entry in place, keeping its spacing, when keys are added or removed', () => {
    const text = 'images: [{name: a, newTag: "1"}, {name: b, newTag: x}]\n';
    const out = setOverlayImages(text, FILE, [{ name: 'a', newTag: '2', digest: 'sha256:' + 'b'.repeat(64) }]).text;
    expect(out).toBe(`images: [{digest: sha256:${'b'.repeat(64)}, name: a, newTag: "2"}, {name: b, newTag: x}]\n`);
    expect(setOverlayImages(out, FILE, [{ name: 'a', newTag: '3' }]).text).toBe('images: [{name: a, newTag: "3"}, {name: b, newTag: x}]\n');
    expect(setOverlayImages('images:\n  - { name: b , newTag: x }\n', FILE, [{ name: 'b', newName: 'reg/b', digest: 'sha256:' + 'c'.repeat(64) }]).text).toBe(
      `images:\n  - { digest: sha256:${'c'.repeat(64)}, name: b, newName: reg/b }\n`,
    );
    expect(readOverlayImages(out, FILE, ['a', 'b'])).toEqual([
      { name: 'a', newTag: '2', digest: 'sha256:' + 'b'.repeat(64) },
      { name: 'b', newTag: 'x' },
    ]);
  });

  it('is a no-op (changed: false, same text) when the images are already there', () => {
    const current = readOverlayImages(STAGING, FILE, ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster']);
    const result = setOverlayImages(STAGING, FILE, current);
    expect(result).toEqual({ text: STAGING, changed: false });
    expect(overlayHolds(current, current)).toBe(true);
  });

  it('restores exactly the previous images (a rollback)', () => {
    const names = ['todoapp/frontend', 'todoapp/backend', 'todoapp/backend-todos', 'todoapp/broadcaster'];
    const previous = readOverlayImages(STAGING, FILE, names);
    const promoted = setOverlayImages(STAGING, FILE, names.map((name) => ({ name, newTag: 'fff999' }))).text;
    expect(overlayHolds(readOverlayImages(promoted, FILE, names), previous)).toBe(false);
    const rolledBack = setOverlayImages(promoted, FILE, previous).text;
    expect(readOverlayImages(rolledBack, FILE, names)).toEqual(previous);
  });

  it('fails without a partial edit when any image is missing', () => {
    const err = captureError(() =>
      setOverlayImages(STAGING, FILE, [
        { name: 'todoapp/frontend', newTag: 'x' },
        { name: 'todoapp/missing', newTag: 'x' },
      ]),
    );
    expect(err.reason).toBe('missing-image');
    expect(err.message).toContain('todoapp/missing');
  });
});

const DIGEST = 'sha256:' + 'd'.repeat(64);
const DIGEST2 = 'sha256:' + 'e'.repeat(64);

/** Parses with both YAML versions kustomize and this package use; fails the test on any error. */
function parsesCleanly(text: string): Record<string, any> {
  for (const version of ['1.1', '1.2'] as const) {
    const doc = parseDocument(text, { version });
    expect(doc.errors.map((e) => e.message)).toEqual([]);
  }
  return parse(text);
}

describe('issue 19 item 1: an edit never writes invalid YAML', () => {
  it('removes a first key (kustomize order: digest before name) and keeps the list marker', () => {
    // What `kustomize edit set image app@sha256:…` writes; a tag promotion must drop the digest.
    const text = `images:\n- digest: ${DIGEST}\n  name: app\n- name: other\n  newTag: v1\n`;
    const out = setOverlayImages(text, FILE, [{ name: 'app', newTag: '3f2a9c1' }]).text;
    expect(out).toBe('images:\n- name: app\n  newTag: 3f2a9c1\n- name: other\n  newTag: v1\n');
    expect(parsesCleanly(out).images).toEqual([
      { name: 'app', newTag: '3f2a9c1' },
      { name: 'other', newTag: 'v1' },
    ]);
  });

  it('removes a first key whose neighbour is a block scalar, and one that is a block scalar itself', () => {
    const text = `images:\n  - digest: ${DIGEST}\n    newTag: |-\n      v1\n  - digest: >-\n      ${DIGEST}\n    name: other\n    newTag: v2\n    newName: x\n`;
    // Not a kustomization yet: the first entry has no name. Give it one after the block scalar.
    const withName = text.replace('      v1\n', '      v1\n    name: app\n');
    const out = setOverlayImages(withName, FILE, [
      { name: 'app', newTag: 'abc1234' },
      { name: 'other', newTag: 'def5678' },
    ]).text;
    expect(parsesCleanly(out).images).toEqual([
      { newTag: 'abc1234', name: 'app' },
      { name: 'other', newTag: 'def5678', newName: 'x' },
    ]);
    expect(out).toBe('images:\n  - newTag: |-\n      abc1234\n    name: app\n  - name: other\n    newTag: def5678\n    newName: x\n');
  });

  it('adds a field after a block or folded scalar without writing into the next entry', () => {
    const text = 'images:\n- name: app\n  newTag: >-\n    v1\n- newName: x\n  name: next\n  newTag: |-\n    v2\n- name: last\n';
    const out = setOverlayImages(text, FILE, [
      { name: 'app', newName: 'reg/app' },
      { name: 'next', newTag: 'v2', digest: DIGEST },
    ]).text;
    expect(parsesCleanly(out).images).toEqual([
      { name: 'app', newName: 'reg/app', newTag: 'v1' },
      { newName: 'x', name: 'next', newTag: 'v2', digest: DIGEST },
      { name: 'last' },
    ]);
    expect(out).toBe(`images:\n- name: app\n  newName: reg/app\n  newTag: >-\n    v1\n- newName: x\n  name: next\n  newTag: |-\n    v2\n  digest: ${DIGEST}\n- name: last\n`);
  });

  it('removes a block scalar field followed by another entry, keeping that entry whole', () => {
    const text = `images:\n- name: app\n  newTag: v1\n  digest: |-\n    ${DIGEST}\n- name: next\n  newTag: v2\n`;
    const out = setOverlayImages(text, FILE, [{ name: 'app', newTag: 'v3' }]).text;
    expect(out).toBe('images:\n- name: app\n  newTag: v3\n- name: next\n  newTag: v2\n');
  });

  it('the code before the fix produced YAML that does not parse; the check refuses such a result', () => {
    // Exactly what the line-based splice made of the first case above.
    const broken = 'images:\n  name: app\n  newTag: 3f2a9c1\n- name: other\n  newTag: v1\n';
    const before = `images:\n- digest: ${DIGEST}\n  name: app\n- name: other\n  newTag: v1\n`;
    expect(overlayEditProblems(before, broken, FILE, [{ name: 'app', fields: { newTag: '3f2a9c1', digest: null } }])).toEqual([
      expect.stringMatching(/^the result is not valid YAML/),
    ]);
  });
});

describe('editOverlayImages: every shape an overlay comes in', () => {
  it('keeps block and folded styles when replacing their value; chomping follows the value', () => {
    const text = 'images:\n- name: a\n  newTag: |-\n    v1\n  newName: >\n    reg/a\n';
    const out = setOverlayImages(text, FILE, [{ name: 'a', newTag: 'v2', newName: 'reg/b' }]).text;
    expect(out).toBe('images:\n- name: a\n  newTag: |-\n    v2\n  newName: >-\n    reg/b\n');
    // An indentation indicator stays and sets the indentation; blank lines after the content stay.
    expect(setOverlayImages('images:\n- name: a\n  newTag: |2-\n      v1\n\n- name: b\n', FILE, [{ name: 'a', newTag: 'v2' }]).text).toBe(
      'images:\n- name: a\n  newTag: |2-\n    v2\n\n- name: b\n',
    );
    // A value that cannot be one line of block content is written double-quoted in its place.
    expect(setOverlayImages(text, FILE, [{ name: 'a', newTag: ' lead' }]).text).toBe('images:\n- name: a\n  newTag: " lead"\n  newName: >\n    reg/a\n');
  });

  it('keeps comments between keys and after values; drops only the removed field\'s own line', () => {
    const text = `images:\n- digest: ${DIGEST} # pinned by kustomize\n  # the app itself\n  name: app\n  newName: reg/app # mirror\n`;
    const out = setOverlayImages(text, FILE, [{ name: 'app', newTag: 'v9' }]).text;
    expect(out).toBe('images:\n- # the app itself\n  name: app\n  newName: reg/app # mirror\n  newTag: v9\n');
    expect(parsesCleanly(out).images).toEqual([{ name: 'app', newName: 'reg/app', newTag: 'v9' }]);
  });

  it('keeps CRLF line endings, in what it replaces and what it adds', () => {
    const text = `images:\r\n- digest: ${DIGEST}\r\n  name: app\r\n- name: b\r\n  newTag: |-\r\n    v1\r\n`;
    const out = setOverlayImages(text, FILE, [
      { name: 'app', newTag: 'v2' },
      { name: 'b', newTag: 'v3', digest: DIGEST2 },
    ]).text;
    expect(out).toBe(`images:\r\n- name: app\r\n  newTag: v2\r\n- digest: ${DIGEST2}\r\n  name: b\r\n  newTag: |-\r\n    v3\r\n`);
    expect(out.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('edits an entry whose value is an alias by writing the value there; the anchor stays as it was', () => {
    const text = 'x-tag: &tag v1\nimages:\n- name: a\n  newTag: *tag\n';
    expect(readOverlayImages(text, FILE, ['a'])).toEqual([{ name: 'a', newTag: 'v1' }]);
    expect(setOverlayImages(text, FILE, [{ name: 'a', newTag: 'v2' }]).text).toBe('x-tag: &tag v1\nimages:\n- name: a\n  newTag: v2\n');
  });

  it('refuses, naming the image, to edit a node that is shared through an anchor, or an entry using a merge key', () => {
    const shared = 'images:\n- name: a\n  newTag: &t v1\n- name: b\n  newTag: *t\n';
    const err = captureError(() => setOverlayImages(shared, FILE, [{ name: 'a', newTag: 'v2' }]));
    expect(err.reason).toBe('unsupported');
    expect(err.message).toContain('"a"');
    expect(err.message).toContain('&t');
    expect(captureError(() => setOverlayImages('images:\n- &e {name: a, newTag: v1}\ncopy: *e\n', FILE, [{ name: 'a', newTag: 'v2' }])).reason).toBe('unsupported');
    expect(captureError(() => setOverlayImages('base: &b {newTag: v1}\nimages:\n- name: a\n  <<: *b\n', FILE, [{ name: 'a', newTag: 'v2' }])).reason).toBe(
      'unsupported',
    );
    // An entry that is an alias reads as what it points to, and is never edited.
    const aliased = 'x: &e {name: a, newTag: v1}\nimages:\n- *e\n';
    expect(readOverlayImages(aliased, FILE, ['a'])).toEqual([{ name: 'a', newTag: 'v1' }]);
    expect(captureError(() => setOverlayImages(aliased, FILE, [{ name: 'a', newTag: 'v2' }])).reason).toBe('unsupported');
    // Nothing to change: nothing refused.
    expect(setOverlayImages(shared, FILE, [{ name: 'a', newTag: 'v1' }]).changed).toBe(false);
  });

  it('writes an entry back exactly as it was, absent fields included (exactImageEdit)', () => {
    const text = `images:\n- digest: ${DIGEST}\n  name: app\n`;
    const promoted = setOverlayImages(text, FILE, [{ name: 'app', newName: 'reg/app', newTag: 'v2' }]).text;
    expect(promoted).toBe('images:\n- name: app\n  newName: reg/app\n  newTag: v2\n');
    const [previous] = readOverlayImages(text, FILE, ['app']);
    expect(editOverlayImages(promoted, FILE, [exactImageEdit(previous!)]).text).toBe(text);
    // A setting alone leaves newName as it is, which is why the exact edit exists.
    expect(setOverlayImages(promoted, FILE, [previous!]).text).toBe(`images:\n- digest: ${DIGEST}\n  name: app\n  newName: reg/app\n`);
  });

  it('removes several keys in a row, the first ones on the `- ` line included, in block and flow entries', () => {
    const text = `images:\n- digest: ${DIGEST}\n  newTag: v1 # old\n  newName: reg/a\n  name: a\n- {digest: ${DIGEST}, newTag: v1, name: b, newName: reg/b}\n`;
    const out = editOverlayImages(text, FILE, [exactImageEdit({ name: 'a' }), exactImageEdit({ name: 'b', newName: 'reg/b' })]).text;
    expect(out).toBe('images:\n- name: a\n- {name: b, newName: reg/b}\n');
    expect(editOverlayImages(text, FILE, [exactImageEdit({ name: 'a', newName: 'reg/a' }), exactImageEdit({ name: 'b' })]).text).toBe(
      'images:\n- newName: reg/a\n  name: a\n- {name: b}\n',
    );
  });

  it('fills `key:` and `key: ~`, and removes them when the field must be absent', () => {
    expect(setOverlayImages('images:\n- name: a\n  newTag: # todo\n', FILE, [{ name: 'a', newTag: 'v1' }]).text).toBe('images:\n- name: a\n  newTag: v1 # todo\n');
    expect(setOverlayImages('images:\n- name: a\n  newTag: ~\n', FILE, [{ name: 'a', newTag: 'v1' }]).text).toBe('images:\n- name: a\n  newTag: v1\n');
    expect(setOverlayImages('images:\n- name: a\n  newTag:\n  digest: x\n', FILE, [{ name: 'a', digest: DIGEST }]).text).toBe(`images:\n- name: a\n  digest: ${DIGEST}\n`);
  });
});

describe('overlayEditProblems: the check does not trust the editor', () => {
  const before = '# top\nresources: [../base]\nimages:\n- name: a # the app\n  newTag: v1\n- name: b\n  newTag: v1\n';
  const edit = [{ name: 'a', fields: { newTag: 'v2' } }];
  const problems = (after: string) => overlayEditProblems(before, after, FILE, edit);

  it('accepts the intended change', () => {
    expect(problems(before.replace('newTag: v1', 'newTag: v2'))).toEqual([]);
  });

  it('names each way a result can be wrong', () => {
    expect(problems(before)).toEqual([expect.stringContaining('`newTag` should be "v2", is "v1"')]);
    expect(problems(before.replace('newTag: v1', 'newTag: 2'))).toEqual([expect.stringContaining('not a string')]);
    // A string to this package (YAML 1.2), a bool to kustomize (YAML 1.1).
    expect(overlayEditProblems(before, before.replace('newTag: v1', 'newTag: on'), FILE, [{ name: 'a', fields: { newTag: 'on' } }])).toEqual([
      expect.stringContaining('`newTag` reads as true (boolean, not a string) in YAML 1.1'),
    ]);
    expect(problems(before.replace(/newTag: v1/g, 'newTag: v2'))).toEqual([
      expect.stringContaining('"b" changed, but no edit was meant for it'),
      expect.stringContaining('text outside the edited entries changed (line 7)'),
    ]);
    expect(problems(before.replace('newTag: v1', 'newTag: v2').replace('[../base]', '[../other]'))).toEqual([
      expect.stringContaining('outside `images:` changed'),
      expect.stringContaining('text outside the edited entries changed (line 2)'),
    ]);
    expect(problems(before.replace('newTag: v1', 'newTag: v2').replace('# top', '# changed'))).toEqual([expect.stringContaining('text outside the edited entries changed (line 1)')]);
    expect(problems(before.replace('newTag: v1', 'newTag: v2').replace(' # the app', ''))).toEqual([expect.stringContaining('the comment "# the app" was lost')]);
    expect(problems(before.replace('newTag: v1', 'newTag: v2').replace('name: a', 'name:   a'))).toEqual([expect.stringContaining('`name` was not to change, but its text did')]);
    expect(problems(before.replace('newTag: v1', 'newTag: v2').replace('- name: b\n  newTag: v1\n', ''))).toEqual([expect.stringContaining('entries changed from [a, b] to [a]')]);
    expect(overlayEditProblems(before.replace(/\n/g, '\r\n'), before.replace('newTag: v1', 'newTag: v2').replace(/\n/g, '\r\n').replace('v2\r\n', 'v2\n'), FILE, edit)).toEqual([
      expect.stringContaining('the result has LF ones'),
    ]);
    expect(problems('images: [')).toEqual([expect.stringMatching(/^the result is not valid YAML/)]);
    expect(problems('- a\n')).toEqual([expect.stringMatching(/^the result is not a kustomization/)]);
  });

  it('editOverlayImages throws what the check finds as an edit-invalid OverlayError naming the file', () => {
    expect(() => verifyOverlayEdit(before, before, FILE, edit)).toThrow(OverlayError);
    const err = captureError(() => verifyOverlayEdit(before, before, FILE, edit));
    expect(err.reason).toBe('edit-invalid');
    expect(err.message).toContain(FILE);
  });
});

describe('overlayHolds', () => {
  it('compares only the fields a setting decides', () => {
    const current = [{ name: 'a', newName: 'reg/a', newTag: '1' }];
    expect(overlayHolds(current, [{ name: 'a', newTag: '1' }])).toBe(true);
    expect(overlayHolds(current, [{ name: 'a', newTag: '2' }])).toBe(false);
    expect(overlayHolds(current, [{ name: 'a', newTag: '1', digest: 'sha256:x' }])).toBe(false);
    expect(overlayHolds(current, [{ name: 'b', newTag: '1' }])).toBe(false);
  });
});

function captureError(fn: () => unknown): OverlayError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OverlayError) return err;
    throw err;
  }
  throw new Error('expected an OverlayError');
}
