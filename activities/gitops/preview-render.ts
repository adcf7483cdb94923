/**
 * The render check of a preview before it is committed: `kustomize build` of its folder must
 * succeed, and what it renders must be the preview asked for — every object that names a
 * namespace names the preview's, every object that runs containers is in it, and every container
 * running one of the pull request's images runs it with the tag (or digest) the preview's
 * kustomization sets, each image by at least one container. (The overlay writes' own check,
 * kustomize.ts, needs only whether an overlay renders; this one reads what it renders.)
 */
import { parseAllDocuments } from 'yaml';
import type { ImageSetting } from '../../core/images.js';
import { kustomizeRender } from './kustomize.js';

export type PreviewRender = { ok: true; objects: unknown[] } | { ok: false; output: string };

/** `kustomize build` of a preview's folder (kustomize.ts), its manifests read back. */
export async function renderPreview(binary: string, dir: string, timeoutMs: number): Promise<PreviewRender> {
  const rendered = await kustomizeRender(binary, dir, timeoutMs);
  if (!rendered.ok) return rendered;
  const docs = [...parseAllDocuments(rendered.manifests)];
  const broken = docs.find((d) => d.errors.length > 0);
  if (broken) return { ok: false, output: `its output does not parse as YAML: ${broken.errors[0]!.message.split('\n')[0]}` };
  return { ok: true, objects: docs.map((d) => d.toJS() as unknown).filter((o) => o !== null && o !== undefined) };
}

/** An image reference split as kustomize splits it: `name[:tag][@digest]`, a `:` before the last `/` being a registry port. */
export function splitImage(reference: string): { name: string; tag?: string; digest?: string } {
  const at = reference.indexOf('@');
  const digest = at >= 0 ? reference.slice(at + 1) : undefined;
  const rest = at >= 0 ? reference.slice(0, at) : reference;
  const colon = rest.lastIndexOf(':');
  const tagged = colon > rest.lastIndexOf('/');
  return { name: tagged ? rest.slice(0, colon) : rest, ...(tagged ? { tag: rest.slice(colon + 1) } : {}), ...(digest !== undefined ? { digest } : {}) };
}

interface Container {
  object: string;
  container: string;
  image: string;
}

/**
 * What is wrong with a preview's rendered objects, or [] when nothing is: `images` are the
 * entries of the preview's kustomization for the pull request's images (as it sets them), so
 * `newName` and the tag are compared with what kustomize made of them.
 */
export function previewRenderProblems(objects: unknown[], namespace: string, images: ImageSetting[]): string[] {
  const problems: string[] = [];
  const containers: Container[] = [];
  for (const value of objects) {
    if (!isRecord(value)) {
      problems.push('the render holds something that is not an object');
      continue;
    }
    const metadata = isRecord(value.metadata) ? value.metadata : {};
    const label = `${typeof value.kind === 'string' ? value.kind : '?'}/${typeof metadata.name === 'string' ? metadata.name : '?'}`;
    const own = podContainers(value, label);
    containers.push(...own);
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      problems.push(`${label} is in namespace ${JSON.stringify(metadata.namespace)}, not ${namespace}`);
    } else if (metadata.namespace === undefined && own.length > 0) {
      problems.push(`${label} runs containers but has no namespace (not ${namespace})`);
    }
  }
  for (const setting of images) {
    const wanted = setting.newName ?? setting.name;
    const uses = containers.filter((c) => {
      const { name } = splitImage(c.image);
      return name === wanted || name === setting.name;
    });
    if (uses.length === 0) {
      problems.push(`no container of the render runs ${wanted} (the template's images set it, but nothing uses it)`);
      continue;
    }
    for (const use of uses) {
      const got = splitImage(use.image);
      const right = got.name === wanted && (setting.newTag === undefined || got.tag === setting.newTag) && (setting.digest === undefined || got.digest === setting.digest);
      if (!right) problems.push(`${use.object} container ${use.container} runs ${use.image}, not ${expectedImage(setting)}`);
    }
  }
  return problems;
}

function expectedImage(setting: ImageSetting): string {
  return `${setting.newName ?? setting.name}${setting.newTag !== undefined ? `:${setting.newTag}` : ''}${setting.digest !== undefined ? `@${setting.digest}` : ''}`;
}

/** The containers of an object's pod spec where kustomize's image transformer looks: a Pod's, a workload template's, a CronJob's job template's. */
function podContainers(object: Record<string, unknown>, label: string): Container[] {
  const spec = isRecord(object.spec) ? object.spec : undefined;
  const podSpecs = [spec, path(spec, 'template', 'spec'), path(spec, 'jobTemplate', 'spec', 'template', 'spec')];
  const out: Container[] = [];
  for (const podSpec of podSpecs) {
    if (!podSpec) continue;
    for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
      const list = podSpec[field];
      if (!Array.isArray(list)) continue;
      for (const c of list) {
        if (isRecord(c) && typeof c.image === 'string') out.push({ object: label, container: typeof c.name === 'string' ? c.name : '?', image: c.image });
      }
    }
  }
  return out;
}

function path(value: Record<string, unknown> | undefined, ...keys: string[]): Record<string, unknown> | undefined {
  let here: unknown = value;
  for (const key of keys) here = isRecord(here) ? here[key] : undefined;
  return isRecord(here) ? here : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
