/**
 * An in-test world for workflow tests: the outside systems' state (overlay commits, tags, builds,
 * deployments, notifications, Argo CD health rules) kept in an append-only effects log on disk, so
 * several worker processes — one killed, one started after — act on the same world, and a test
 * can count every side effect. Its activities keep the real contracts: idempotent writes, the same
 * failure types, heartbeats while waiting.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sameImages, type ImageSetting } from '../../core/images.js';
import { nextPatchVersion } from '../../core/version.js';
import {
  FailureType,
  type SlipwayActivities,
  type NotificationEvent,
  type CommitContext,
} from '../../activities/types.js';
import { createCheckActivities } from '../../activities/checks/index.js';
import { createControlActivities } from '../../activities/control/index.js';
import { verifyApproval } from '../../activities/github/verify-approval.js';

export interface WorldRules {
  /** overlay path → images it holds before the test. */
  initial: Record<string, ImageSetting[]>;
  /** Argo CD application → overlay it deploys. */
  applications: Record<string, string>;
  /** Image tags that come up Degraded. */
  badTags?: string[];
  /** How long an application takes to become healthy. */
  healthDelayMs?: number;
  /**
   * Overlays someone committed to by hand after a promotion wrote them: a guarded rollback there
   * fails RollbackConflict naming that commit and its author, as the gitops activity does, and
   * writes nothing.
   */
  handCommits?: Record<string, { commit: string; author: string; subject: string }>;
  /** Notification kinds no channel can deliver (a webhook down): the notify activity reports them failed, as the real one does. */
  notifyFails?: NotificationEvent['kind'][];
}

export type Effect =
  | { type: 'commit'; id: string; overlay: string; images: ImageSetting[]; context: CommitContext; at: number }
  | { type: 'tag'; tag: string; commit: string; at: number }
  | { type: 'build'; commit: string; at: number }
  | { type: 'deployment'; environment: string; commit: string; state: string; at: number }
  | { type: 'notify'; event: NotificationEvent; channels: unknown[]; at: number; failed?: boolean }
  | { type: 'health-wait'; application: string; commit: string; phase: 'start' | 'end'; at: number };

/** True when the lock's holder process no longer exists (a holder still writing its pid is alive). */
function holderIsGone(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return false;
  }
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class FakeWorld {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  setRules(rules: WorldRules): void {
    writeFileSync(join(this.dir, 'rules.json'), JSON.stringify(rules));
  }

  rules(): WorldRules {
    return JSON.parse(readFileSync(join(this.dir, 'rules.json'), 'utf8')) as WorldRules;
  }

  updateRules(change: Partial<WorldRules>): void {
    this.setRules({ ...this.rules(), ...change });
  }

  effects(): Effect[] {
    const file = join(this.dir, 'effects.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Effect);
  }

  commits(overlay?: string): Extract<Effect, { type: 'commit' }>[] {
    return this.effects().filter((e): e is Extract<Effect, { type: 'commit' }> => e.type === 'commit' && (!overlay || e.overlay === overlay));
  }

  overlayImages(overlay: string): ImageSetting[] {
    return this.commits(overlay).at(-1)?.images ?? this.rules().initial[overlay] ?? [];
  }

  head(): string {
    return this.commits().at(-1)?.id ?? 'initial0000000000000000000000000000000000';
  }

  append(effect: Effect): void {
    appendFileSync(join(this.dir, 'effects.jsonl'), `${JSON.stringify(effect)}\n`);
  }

  /**
   * A lock shared by every process acting on this world (mkdir is atomic). It names its holder, so
   * a lock left by a worker that was SIGKILLed while holding it is broken instead of waited on.
   */
  async locked<T>(fn: () => T | Promise<T>): Promise<T> {
    const lock = join(this.dir, 'lock');
    // The lock appears with its holder's pid already inside (a rename), so a holder killed at any
    // moment leaves either no lock or one whose holder can be seen to be gone.
    const mine = join(this.dir, `lock-${process.pid}-${randomUUID()}`);
    mkdirSync(mine);
    writeFileSync(join(mine, 'pid'), String(process.pid));
    for (;;) {
      try {
        renameSync(mine, lock);
        break;
      } catch {
        if (holderIsGone(lock)) rmSync(lock, { recursive: true, force: true });
        else await new Promise((r) => setTimeout(r, 5));
      }
    }
    try {
      return await fn();
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }

  activities(): SlipwayActivities {
    const world = this;
    const heartbeat = (details?: unknown) => {
      try {
        Context.current().heartbeat(details);
      } catch {
        /* called outside an activity */
      }
    };
    /** One build per commit, however often a build step runs. */
    const recordBuild = (commit: string) =>
      world.locked(() => {
        if (!world.effects().some((e) => e.type === 'build' && e.commit === commit)) world.append({ type: 'build', commit, at: Date.now() });
      });
    const sleep = async (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        heartbeat();
        await new Promise((r) => setTimeout(r, Math.min(250, end - Date.now())));
      }
    };

    return {
      ...createControlActivities(),
      // HTTP checks are real: tests point them at servers they start on 127.0.0.1.
      ...createCheckActivities(),
      async readOverlayImages({ overlay, imageNames }) {
        const images = world.overlayImages(overlay);
        if (!world.rules().initial[overlay]) {
          throw ApplicationFailure.nonRetryable(`overlay ${overlay} not found`, FailureType.OverlayNotFound);
        }
        return { commit: world.head(), images: imageNames.map((n) => images.find((i) => i.name === n) ?? { name: n }) };
      },
      async writeOverlayImages({ overlay, images, context, guard }) {
        const hand = guard ? world.rules().handCommits?.[overlay] : undefined;
        if (hand) {
          throw ApplicationFailure.nonRetryable(
            `${overlay}/kustomization.yaml: not rolled back — the overlay no longer holds what this promotion wrote; last changed by ${hand.commit} (${hand.author}: "${hand.subject}"). Nothing was written; a person decides what runs here`,
            FailureType.RollbackConflict,
          );
        }
        return world.locked(() => {
          const current = world.overlayImages(overlay);
          const merged = current.map((c) => images.find((i) => i.name === c.name) ?? c);
          if (sameImages(merged, current)) return { commit: world.head(), changed: false };
          const id = createHash('sha1').update(`${world.head()}${overlay}${JSON.stringify(merged)}${Date.now()}`).digest('hex');
          world.append({ type: 'commit', id, overlay, images: merged, context, at: Date.now() });
          return { commit: id, changed: true };
        });
      },
      async refreshApplication() {},
      async waitForHealthy({ app, commit, timeoutMs }) {
        const rules = world.rules();
        const overlay = rules.applications[app.application];
        if (!overlay) throw ApplicationFailure.nonRetryable(`application ${app.namespace}/${app.application} not found`, FailureType.ApplicationNotFound);
        world.append({ type: 'health-wait', application: app.application, commit, phase: 'start', at: Date.now() });
        await sleep(Math.min(rules.healthDelayMs ?? 0, timeoutMs));
        world.append({ type: 'health-wait', application: app.application, commit, phase: 'end', at: Date.now() });
        const bad = world.overlayImages(overlay).find((i) => i.newTag && rules.badTags?.includes(i.newTag));
        if (bad) {
          throw ApplicationFailure.nonRetryable(
            `${app.application} is Degraded: Deployment ${bad.name} exceeded its progress deadline`,
            FailureType.ApplicationDegraded,
          );
        }
        return { revision: world.head(), sync: 'Synced', health: 'Healthy' };
      },
      async triggerBuild({ commit }) {
        await recordBuild(commit);
        return { url: `https://ci.example/run/${commit}`, conclusion: 'success' };
      },
      async runBuildCommand({ commit }) {
        await recordBuild(commit);
        return { url: `command for ${commit}`, conclusion: 'success' };
      },
      async createReleaseTag({ tag, commit }) {
        return world.locked(() => {
          const existing = world.effects().find((e): e is Extract<Effect, { type: 'tag' }> => e.type === 'tag' && e.tag === tag);
          if (existing && existing.commit !== commit) {
            throw ApplicationFailure.nonRetryable(`tag ${tag} exists on ${existing.commit}`, FailureType.TagConflict);
          }
          if (existing) return { created: false };
          world.append({ type: 'tag', tag, commit, at: Date.now() });
          return { created: true };
        });
      },
      async nextVersion({ format }) {
        const tags = world.effects().flatMap((e) => (e.type === 'tag' ? [e.tag] : []));
        return nextPatchVersion(tags, format);
      },
      async reportDeployment({ environment, commit, state }) {
        world.append({ type: 'deployment', environment, commit, state, at: Date.now() });
      },
      // Approvals from GitHub comments are checked for real (GITHUB_API_URL points at Prism in tests).
      verifyApproval: (input) => verifyApproval(input),
      async notify({ channels, event }) {
        if (world.rules().notifyFails?.includes(event.kind)) {
          world.append({ type: 'notify', event, channels, at: Date.now(), failed: true });
          return { delivered: 0, failed: channels.length };
        }
        world.append({ type: 'notify', event, channels, at: Date.now() });
        return { delivered: channels.length, failed: 0 };
      },
    };
  }
}
