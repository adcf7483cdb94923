/**
 * How the stand-in decides the health of what it deployed — the test's stand-in for pods
 * starting or crash-looping. Every image becomes one Deployment resource; a tag listed as bad
 * turns it Degraded after the progressing delay, a stuck tag keeps it Progressing forever.
 * The sets are read on every evaluation, so a test may change them while the stand-in runs.
 */
import type { OverlayImage } from './git-source.js';

export interface HealthRules {
  badTags?: Set<string>;
  stuckTags?: Set<string>;
  /** How long a fresh rollout reports Progressing before it settles (default 200 ms). */
  progressingMs?: number;
}

export interface ResourceHealth {
  group: string;
  version: string;
  kind: 'Deployment';
  namespace: string;
  name: string;
  status: 'Synced' | 'OutOfSync';
  health: { status: string; message?: string };
}

export function deploymentName(image: string): string {
  return image.split('/').pop()!.replace(/[^a-z0-9-]/gi, '-').toLowerCase();
}

/** Each image's Deployment health, `elapsedMs` after its rollout started. */
export function resourceHealth(images: OverlayImage[], rules: HealthRules, elapsedMs: number, namespace: string, synced: boolean): ResourceHealth[] {
  const settled = elapsedMs >= (rules.progressingMs ?? 200);
  return images.map((image) => {
    const name = deploymentName(image.name);
    let health: ResourceHealth['health'];
    if (rules.stuckTags?.has(image.tag) || !settled) {
      health = { status: 'Progressing', message: `Waiting for rollout to finish: 0 of 1 updated replicas are available...` };
    } else if (rules.badTags?.has(image.tag)) {
      health = { status: 'Degraded', message: `Deployment "${name}" exceeded its progress deadline (image ${image.name}:${image.tag} is crash-looping)` };
    } else {
      health = { status: 'Healthy' };
    }
    return { group: 'apps', version: 'v1', kind: 'Deployment', namespace, name, status: synced ? 'Synced' : 'OutOfSync', health };
  });
}

/** The application's health is its worst resource's, in Argo CD's order of severity. */
export function applicationHealth(resources: ResourceHealth[]): string {
  const order = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];
  let worst = 'Healthy';
  for (const r of resources) if (order.indexOf(r.health.status) > order.indexOf(worst)) worst = r.health.status;
  return worst;
}
