/**
 * Tier: unit (no servers). The app's previews as its previews workflow keeps them: at most `max`
 * up, a pull request opened at the maximum making the idlest give way or waiting, the first
 * waiting taking a freed place, and the names and places of one preview under the policy.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/schema.js';
import { PreviewBoard } from '../../workflows/preview-board.js';
import { previewPlan } from '../../workflows/preview.js';

const oneAtATime = { max: 1, atMax: 'remove-oldest' as const };

describe('PreviewBoard', () => {
  it('starts a preview for an opened pull request under the maximum, and wakes it on a push or a close', () => {
    const board = new PreviewBoard();
    expect(board.event(12, 'opened', 1, { max: 2, atMax: 'wait' })).toEqual([{ kind: 'start', number: 12 }]);
    expect(board.event(12, 'synchronize', 2, { max: 2, atMax: 'wait' })).toEqual([{ kind: 'wake', number: 12 }]);
    expect(board.event(12, 'closed', 3, { max: 2, atMax: 'wait' })).toEqual([{ kind: 'wake', number: 12 }]);
    // A close of a pull request with no preview changes nothing.
    expect(board.event(99, 'closed', 3, { max: 2, atMax: 'wait' })).toEqual([]);
  });

  it('at the maximum with remove-oldest: the preview idle longest is asked to go, once, and the new one starts when it has', () => {
    const board = new PreviewBoard();
    const rules = { max: 2, atMax: 'remove-oldest' as const };
    board.event(1, 'opened', 10, rules);
    board.event(2, 'opened', 20, rules);
    board.event(1, 'synchronize', 30, rules); // #2 is now the idlest
    expect(board.event(3, 'opened', 40, rules)).toEqual([
      { kind: 'queued', number: 3, position: 1 },
      { kind: 'evict', number: 2, for: 3 },
    ]);
    // Another event for the waiting one asks nobody else to go.
    expect(board.event(3, 'synchronize', 41, rules)).toEqual([{ kind: 'queued', number: 3, position: 1 }]);
    expect(board.view().active.find((a) => a.number === 2)?.leaving).toBe(true);
    expect(board.ended(2, 50, rules)).toEqual([{ kind: 'start', number: 3 }]);
    expect(board.view()).toEqual({ active: [{ number: 1, since: 10, lastEvent: 30 }, { number: 3, since: 50, lastEvent: 50 }], waiting: [] });
  });

  it('at the maximum with wait: nobody is asked to go; the first waiting starts when a place frees, a closed one leaves the queue', () => {
    const board = new PreviewBoard();
    const rules = { max: 1, atMax: 'wait' as const };
    board.event(1, 'opened', 1, rules);
    expect(board.event(2, 'opened', 2, rules)).toEqual([{ kind: 'queued', number: 2, position: 1 }]);
    expect(board.event(3, 'opened', 3, rules)).toEqual([{ kind: 'queued', number: 3, position: 2 }]);
    board.event(2, 'closed', 4, rules);
    expect(board.ended(1, 5, rules)).toEqual([{ kind: 'start', number: 3 }]);
  });

  it('two opened at once at the maximum ask two previews to go', () => {
    const board = new PreviewBoard();
    const rules = { max: 2, atMax: 'remove-oldest' as const };
    board.event(1, 'opened', 1, rules);
    board.event(2, 'opened', 2, rules);
    expect(board.event(3, 'opened', 3, rules).filter((s) => s.kind === 'evict')).toEqual([{ kind: 'evict', number: 1, for: 3 }]);
    expect(board.event(4, 'opened', 4, rules).filter((s) => s.kind === 'evict')).toEqual([{ kind: 'evict', number: 2, for: 4 }]);
  });

  it('carries its state across a continue-as-new', () => {
    const board = new PreviewBoard();
    board.event(1, 'opened', 1, oneAtATime);
    board.event(2, 'opened', 2, { max: 1, atMax: 'wait' });
    const next = new PreviewBoard(board.carry());
    expect(next.view()).toEqual(board.view());
    expect(next.ended(1, 3, oneAtATime)).toEqual([{ kind: 'start', number: 2 }]);
  });
});

describe('previewPlan', () => {
  const config = (previews: string) =>
    parseConfig(
      `gitops: { url: "https://github.com/acme/gitops.git", tokenFromEnv: GITOPS_TOKEN }
apps:
  todoapp:
    source: { github: acme/todoapp }
    images: [todoapp/frontend]
    previews: ${previews}
    environments:
      - name: staging
        overlay: 1.2/overlays/staging
        argocd: { application: todoapp-staging }
`,
      'slipway.yaml',
    );

  it('names the preview by its pattern, puts it beside the template on the previews branch, and fills in its address', () => {
    const c = config('{ template: 1.2/overlays/preview-template, url: "https://{name}.preview.todo.example" }');
    const plan = previewPlan('todoapp', 12, c.apps.todoapp!.previews!, c.gitops);
    expect(plan).toMatchObject({ name: 'pr-12', qualified: 'todoapp-pr-12', path: '1.2/overlays/previews/todoapp-pr-12', url: 'https://pr-12.preview.todo.example' });
    expect(plan.git).toMatchObject({ url: 'https://github.com/acme/gitops.git', branch: 'slipway/previews' });
    expect(plan.previews).toMatchObject({ ttl: 72 * 3_600_000, max: 5, atMax: 'remove-oldest', argocd: { namespace: 'argocd', project: 'default' } });
  });

  it('refuses previews without the source repository, and a name pattern without {number}, at their fields', () => {
    expect(() =>
      parseConfig(
        `gitops: { url: "file:///g.git" }
apps:
  todoapp:
    images: [todoapp/frontend]
    previews: { template: overlays/preview }
    environments: [{ name: staging, overlay: overlays/staging, argocd: { application: a } }]
`,
        'slipway.yaml',
      ),
    ).toThrow(/apps\.todoapp\.previews .*previews need source\.github/);
    expect(() => config('{ template: t/preview, name: "preview" }')).toThrow(/apps\.todoapp\.previews\.name .*has no \{number\}/);
  });
});
