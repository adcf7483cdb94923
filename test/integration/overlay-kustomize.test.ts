/**
 * Overlay edits against the real kustomize (v5.8.1, found like the rest of the suite's tools):
 * overlays written by `kustomize edit set image` itself, promoted and rolled back by Slipway and
 * rendered with `kustomize build`; and the generated overlays of the property tests, each one
 * before, after a promotion and after the rollback, rendered in one build and checked image by
 * image. A failure prints the seed; SLIPWAY_PROPERTY_SEED=<seed> replays it.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { ImageSetting } from '../../core/images.js';
import { editOverlayImages, exactImageEdit, readOverlayImages, setOverlayImages } from '../../core/overlay.js';
import { kustomizePath } from '../../infra/kustomize.js';
import { IMAGE_NAMES, overlayBase, overlayModel, promotionFor, renderOverlay, renderedImage, type OverlayModel } from '../support/overlay-arbitraries.js';

const run = promisify(execFile);
const FILE = 'overlay/kustomization.yaml';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

let kustomize: string;
let root: string;

beforeAll(async () => {
  kustomize = kustomizePath();
  root = await mkdtemp(join(tmpdir(), 'slipway-kustomize-'));
  await writeTree(join(root, 'base'), overlayBase());
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

interface Resource {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: { template: { spec: { containers: Array<{ image: string }> } } };
}

async function build(dir: string): Promise<Resource[]> {
  const { stdout } = await run(kustomize, ['build', dir], { maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Resource);
}

/** The image of each base container, by image name, in one rendered Deployment. */
function imagesOf(deployment: Resource): Record<string, string> {
  return Object.fromEntries(IMAGE_NAMES.map((name, i) => [name, deployment.spec.template.spec.containers[i]!.image]));
}

function expectedImages(settings: ImageSetting[]): Record<string, string> {
  return Object.fromEntries(IMAGE_NAMES.map((name) => [name, renderedImage(settings.find((s) => s.name === name), name)]));
}

let overlays = 0;
/** An overlay folder next to the base, holding `text`; returns its path. */
async function overlayDir(text: string): Promise<string> {
  const dir = join(root, `overlay-${++overlays}`);
  await writeTree(dir, { 'kustomization.yaml': text });
  return dir;
}

describe('issue 19 item 1: overlays that `kustomize edit set image` wrote, promoted and rolled back', () => {
  it('kustomize sorts keys (digest before name); the promotion drops that first key and the result renders', async () => {
    const dir = await overlayDir('resources:\n- ../base\n');
    for (const spec of [`app@${digest('a')}`, 'todoapp/frontend=registry.example.com/fe:1.20', `b:v1@${digest('b')}`, 'registry.example.com/team/api:v2']) {
      await run(kustomize, ['edit', 'set', 'image', spec], { cwd: dir });
    }
    const written = await readFile(join(dir, 'kustomization.yaml'), 'utf8');
    // The shape the issue is about, as kustomize v5.8.1 writes it.
    expect(written).toContain(`- digest: ${digest('a')}\n  name: app\n`);
    expect(written).toContain('newTag: "1.20"');

    const previous = readOverlayImages(written, FILE, [...IMAGE_NAMES]);
    const promotion = IMAGE_NAMES.map((name) => ({ name, newTag: '3f2a9c1d4e5f' }));
    const promoted = setOverlayImages(written, FILE, promotion).text;
    await writeFile(join(dir, 'kustomization.yaml'), promoted);
    const [deployment] = await build(dir);
    expect(imagesOf(deployment!)).toEqual({
      app: 'app:3f2a9c1d4e5f',
      'todoapp/frontend': 'registry.example.com/fe:3f2a9c1d4e5f',
      'registry.example.com/team/api': 'registry.example.com/team/api:3f2a9c1d4e5f',
      b: 'b:3f2a9c1d4e5f',
    });

    // The rollback gives back kustomize's own file, byte for byte, and its images.
    const rolledBack = setOverlayImages(promoted, FILE, previous).text;
    expect(rolledBack).toBe(written);
    await writeFile(join(dir, 'kustomization.yaml'), rolledBack);
    expect(imagesOf((await build(dir))[0]!)).toEqual(expectedImages(previous));
  });

  it('kustomize and Slipway taking turns on one file: each reads what the other wrote, and it renders', async () => {
    const dir = await overlayDir('resources:\n- ../base\nimages:\n- name: app # the web app\n  newTag: v1\n');
    const file = join(dir, 'kustomization.yaml');
    await run(kustomize, ['edit', 'set', 'image', `app@${digest('c')}`], { cwd: dir });
    await writeFile(file, setOverlayImages(await readFile(file, 'utf8'), FILE, [{ name: 'app', newTag: 'v2', digest: digest('d') }]).text);
    await run(kustomize, ['edit', 'set', 'image', 'b=registry.example.com/b:v3'], { cwd: dir });
    const text = await readFile(file, 'utf8');
    await writeFile(file, setOverlayImages(text, FILE, [{ name: 'b', newTag: 'v4' }, { name: 'app', newTag: 'v5' }]).text);
    expect(imagesOf((await build(dir))[0]!)).toMatchObject({ app: 'app:v5', b: 'registry.example.com/b:v4' });
  });
});

describe('generated overlays render with kustomize before, after a promotion and after the rollback', () => {
  it('every one of them, with exactly the images each stage should have', async () => {
    const seed = process.env.SLIPWAY_PROPERTY_SEED ? Number(process.env.SLIPWAY_PROPERTY_SEED) : Math.floor(Math.random() * 2 ** 31);
    const samples = fc.sample(
      overlayModel.chain((model) => promotionFor(model).map((promotion) => ({ model, promotion }))),
      { numRuns: 150, seed },
    );
    const stages: Array<{ label: string; text: string; images: ImageSetting[] }> = [];
    for (const [i, { model, promotion }] of samples.entries()) {
      const original = renderOverlay(model).text;
      const before = settingsOf(model);
      const promoted = setOverlayImages(original, FILE, promotion).text;
      const after = before.map((s) => promotedSetting(s, promotion.find((p) => p.name === s.name)));
      const rolledBack = editOverlayImages(promoted, FILE, readOverlayImages(original, FILE, promotion.map((p) => p.name)).map(exactImageEdit)).text;
      stages.push({ label: `${i}-original`, text: original, images: before }, { label: `${i}-promoted`, text: promoted, images: after }, { label: `${i}-rolled-back`, text: rolledBack, images: before });
    }

    // One build renders them all: each stage under its own namespace, so their Deployments do not collide.
    const all = join(root, `generated-${seed}`);
    for (const stage of stages) {
      await writeTree(join(all, stage.label), { 'kustomization.yaml': stage.text });
      await writeTree(join(all, `ns-${stage.label}`), { 'kustomization.yaml': `namespace: ns-${stage.label}\nresources:\n- ../${stage.label}\n` });
    }
    await writeTree(join(all, 'all'), { 'kustomization.yaml': `resources:\n${stages.map((s) => `- ../ns-${s.label}\n`).join('')}` });
    // Every stage points at ../base.
    await writeTree(join(all, 'base'), overlayBase());
    let rendered: Resource[];
    try {
      rendered = await build(join(all, 'all'));
    } catch {
      // Say which one does not render.
      for (const stage of stages) {
        await build(join(all, stage.label)).catch((err: Error) => {
          throw new Error(`seed ${seed}: ${stage.label} does not render: ${err.message}\n${stage.text}`);
        });
      }
      throw new Error(`seed ${seed}: the overlays render one by one, not together`);
    }
    for (const stage of stages) {
      const deployment = rendered.find((r) => r.kind === 'Deployment' && r.metadata.namespace === `ns-${stage.label}`);
      expect(deployment, `seed ${seed}: ${stage.label}`).toBeDefined();
      expect(imagesOf(deployment!), `seed ${seed}: ${stage.label}\n${stage.text}`).toEqual(expectedImages(stage.images));
    }
  });
});

/** The entries' settings as the model wrote them. */
function settingsOf(model: OverlayModel): ImageSetting[] {
  return model.entries.map((e) => ({ name: e.name, ...Object.fromEntries(Object.entries(e.fields).map(([k, v]) => [k, v.text])) }));
}

function promotedSetting(before: ImageSetting, setting: ImageSetting | undefined): ImageSetting {
  if (!setting) return before;
  const out: ImageSetting = { name: before.name, newName: setting.newName ?? before.newName, newTag: setting.newTag, digest: setting.digest };
  for (const k of ['newName', 'newTag', 'digest'] as const) if (out[k] === undefined) delete out[k];
  return out;
}
