/**
 * Bench-only activities that answer at once, from memory: overlays, tags and builds are maps, Argo CD
 * is Healthy immediately. What is left to measure is Slipway's orchestration on Temporal. The
 * control activity (requestPromotion) is the real one: it is part of the engine.
 */
import { randomUUID } from 'node:crypto';
import { createControlActivities } from '../activities/control/index.js';
import type { SlipwayActivities } from '../activities/types.js';
import type { ImageSetting } from '../core/images.js';
import { nextPatchVersion } from '../core/version.js';

export function instantActivities(): SlipwayActivities & { noop(): Promise<void> } {
  const overlays = new Map<string, ImageSetting[]>();
  const tags = new Map<string, string>();
  const key = (url: string, overlay: string) => `${url}#${overlay}`;
  return {
    ...createControlActivities(),
    async noop() {},
    async readOverlayImages({ git, overlay, imageNames }) {
      const images = overlays.get(key(git.url, overlay)) ?? [];
      return { commit: 'bench', images: imageNames.map((name) => images.find((i) => i.name === name) ?? { name, newTag: 'old' }) };
    },
    async writeOverlayImages({ git, overlay, images }) {
      overlays.set(key(git.url, overlay), images);
      return { commit: randomUUID().replace(/-/g, ''), changed: true };
    },
    async refreshApplication() {},
    async waitForHealthy({ commit }) {
      return { revision: commit, sync: 'Synced', health: 'Healthy' };
    },
    async httpCheck() {
      return { status: 200, attempts: 1 };
    },
    async metricCheck({ query }) {
      return { query, rounds: 1, good: 1, bad: 0, noData: 0, unavailable: 0 };
    },
    async triggerBuild({ commit }) {
      return { url: `bench://build/${commit}`, conclusion: 'success' };
    },
    async runBuildCommand({ commit }) {
      return { url: `bench://build/${commit}`, conclusion: 'success' };
    },
    async createReleaseTag({ source, tag, commit }) {
      const k = `${source.repo}@${tag}`;
      const created = !tags.has(k);
      tags.set(k, commit);
      return { created };
    },
    async nextVersion({ source, format }) {
      return nextPatchVersion([...tags.keys()].filter((k) => k.startsWith(`${source.repo}@`)).map((k) => k.split('@')[1]!), format);
    },
    async reportDeployment() {},
    async verifyApproval() {
      return { ok: false as const, reason: 'the bench has no approvals' };
    },
    async notify({ channels }) {
      return { delivered: channels.length, failed: 0 };
    },
  };
}
