/**
 * Tier: integration (the real kustomize, v5.8.1, found like the rest of the suite's tools; no
 * Temporal). A preview overlay made by previewOverlay from a template, in a GitOps tree on disk:
 * with its template's own files copied next to it, `kustomize build` of the preview renders what
 * the template renders — the same objects from the same base, component and template files — but
 * in the preview's namespace and with the pull request's image tag.
 */
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runProgram } from '../../activities/bounded-process.js';
import { previewOverlay } from '../../core/preview-overlay.js';
import { kustomizePath } from '../../infra/kustomize.js';

const TEMPLATE_DIR = 'apps/todo/overlays/preview-template';
const PREVIEW_DIR = 'apps/todo/overlays/previews/pr-12';
const COMMIT = '3f2a9c1d4e5f60718293a4b5c6d7e8f901234567';

const TREE: Record<string, string> = {
  'apps/todo/base/kustomization.yaml': 'resources:\n- deployment.yaml\n- service.yaml\n',
  'apps/todo/base/deployment.yaml': [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata: { name: frontend }', 'spec:', '  selector: { matchLabels: { app: frontend } }', '  template:',
    '    metadata: { labels: { app: frontend } }', '    spec:', '      containers:', '      - { name: frontend, image: "todoapp/frontend:old" }', '      - { name: backend, image: "todoapp/backend:old" }', '',
  ].join('\n'),
  'apps/todo/base/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: frontend }\nspec: { selector: { app: frontend }, ports: [ { port: 80 } ] }\n',
  'components/tls/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- certificate.yaml\n',
  'components/tls/certificate.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: tls-settings }\ndata: { issuer: letsencrypt }\n',
  [`${TEMPLATE_DIR}/ingress.yaml`]: 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: { name: frontend }\nspec: { rules: [ { host: preview.example.com } ] }\n',
  [`${TEMPLATE_DIR}/replicas.yaml`]: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: frontend }\nspec: { replicas: 1 }\n',
  [`${TEMPLATE_DIR}/kustomization.yaml`]: [
    '# One preview per pull request; Slipway fills in the namespace and the tags.',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'nameSuffix: -preview',
    'commonLabels:',
    '  slipway.dev/preview: "true"',
    'resources:',
    '- ../../base  # the app',
    '- ingress.yaml',
    'components: [../../../../components/tls]',
    'patches:',
    '- path: replicas.yaml',
    'images:',
    '- name: todoapp/frontend',
    '  newTag: placeholder',
    '- name: todoapp/backend',
    '  newTag: placeholder',
    '',
  ].join('\n'),
};

let kustomize: string;
let root: string;

beforeAll(async () => {
  kustomize = kustomizePath();
  root = await mkdtemp(join(tmpdir(), 'slipway-preview-kustomize-'));
  for (const [path, text] of Object.entries(TREE)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

type Manifest = { kind: string; metadata: { name: string; namespace?: string }; spec?: { template?: { spec?: { containers?: Array<{ image: string }> } } } };

async function build(dir: string): Promise<Manifest[]> {
  const result = await runProgram({ file: kustomize, args: ['build', join(root, dir)], timeoutMs: 60_000 });
  if (result.end.kind !== 'exited' || result.end.code !== 0) throw new Error(`kustomize build ${dir} failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout).map((d) => d.toJS() as Manifest);
}

describe('a preview overlay rendered by the real kustomize', () => {
  it('renders what its template renders, in the preview namespace and with the pull request\'s tag', async () => {
    const preview = previewOverlay({
      template: TREE[`${TEMPLATE_DIR}/kustomization.yaml`]!,
      templateDir: TEMPLATE_DIR,
      previewDir: PREVIEW_DIR,
      namespace: 'todoapp-pr-12',
      images: [{ name: 'todoapp/frontend', newTag: COMMIT }],
    });
    // The writer's part: the template's own files, copied as they are, next to the new kustomization.yaml.
    await mkdir(join(root, PREVIEW_DIR), { recursive: true });
    for (const file of await readdir(join(root, TEMPLATE_DIR))) {
      if (file !== 'kustomization.yaml') await cp(join(root, TEMPLATE_DIR, file), join(root, PREVIEW_DIR, file));
    }
    await writeFile(join(root, PREVIEW_DIR, 'kustomization.yaml'), preview);

    const template = await build(TEMPLATE_DIR);
    const rendered = await build(PREVIEW_DIR);
    expect(template.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(['ConfigMap/tls-settings-preview', 'Deployment/frontend-preview', 'Ingress/frontend-preview', 'Service/frontend-preview']);
    const expected = template.map((m) => {
      const copy = structuredClone(m);
      copy.metadata.namespace = 'todoapp-pr-12';
      for (const c of copy.spec?.template?.spec?.containers ?? []) c.image = c.image.replace('todoapp/frontend:placeholder', `todoapp/frontend:${COMMIT}`);
      return copy;
    });
    expect(rendered).toEqual(expected);
    const deployment = rendered.find((m) => m.kind === 'Deployment')!;
    expect(deployment.spec!.template!.spec!.containers!.map((c) => c.image)).toEqual([`todoapp/frontend:${COMMIT}`, 'todoapp/backend:placeholder']);
  });
});
