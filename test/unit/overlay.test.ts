import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OverlayError, listOverlayImages, overlayHolds, readOverlayImages, setOverlayImages } from '../../core/overlay.js';

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

  it('adds missing fields under the entry with its indentation', () => {
    const text = 'images:\n- name: a\n  newTag: x\n- name: b # keep\nfoo: bar\n';
    const out = setOverlayImages(text, FILE, [
      { name: 'b', newName: 'reg/b', newTag: 'y' },
      { name: 'a', newTag: 'x', digest: 'sha256:' + 'a'.repeat(64) },
    ]).text;
    expect(out).toBe(`images:\n- name: a\n  newTag: x\n  digest: sha256:${'a'.repeat(64)}\n- name: b # keep\n  newName: reg/b\n  newTag: y\nfoo: bar\n`);
  });

  it('fills an empty value and handles a file without a final newline', () => {
    expect(setOverlayImages('images:\n  - name: a\n    newTag:\n', FILE, [{ name: 'a', newTag: 'v1' }]).text).toBe('images:\n  - name: a\n    newTag: v1\n');
    expect(setOverlayImages('images:\n  - name: a', FILE, [{ name: 'a', newTag: 'v1' }]).text).toBe('images:\n  - name: a\n    newTag: v1\n');
  });

  it('rewrites a flow entry only when a key must be added or removed', () => {
    const text = 'images: [{name: a, newTag: "1"}, {name: b, newTag: x}]\n';
    const out = setOverlayImages(text, FILE, [{ name: 'a', newTag: '2', digest: 'sha256:' + 'b'.repeat(64) }]).text;
    expect(out).toBe(`images: [{ name: a, newTag: "2", digest: sha256:${'b'.repeat(64)} }, {name: b, newTag: x}]\n`);
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
