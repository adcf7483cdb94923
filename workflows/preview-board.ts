/**
 * Which previews of an app are up, which wait, and what an event about a pull request means for
 * them — the state of the app's previews workflow, kept apart from its handlers and tested as plain
 * functions. At most `max` previews are up; a pull request opened at the maximum either makes the
 * preview idle longest give way (`remove-oldest`) or waits for a place (`wait`).
 */

export type PreviewAction = 'opened' | 'reopened' | 'synchronize' | 'closed';

export interface PreviewRules {
  max: number;
  atMax: 'remove-oldest' | 'wait';
}

/** What the previews workflow does about an event. */
export type BoardStep =
  /** Start pull request `number`'s preview. */
  | { kind: 'start'; number: number }
  /** Tell the running preview to look at its pull request again (a push, a close). */
  | { kind: 'wake'; number: number }
  /** Ask a running preview to go, to make room for `for`. */
  | { kind: 'evict'; number: number; for: number }
  /** The pull request waits for a place; `position` 1 is next. */
  | { kind: 'queued'; number: number; position: number };

export interface BoardView {
  active: Array<{ number: number; since: number; lastEvent: number; leaving?: boolean }>;
  waiting: number[];
}

export interface CarriedBoard {
  active: Array<{ number: number; since: number; lastEvent: number }>;
  waiting: number[];
}

export class PreviewBoard {
  private readonly active = new Map<number, { since: number; lastEvent: number }>();
  private waiting: number[] = [];
  /** Previews asked to go and not yet gone: each frees a place for one that waits. */
  private readonly leaving = new Set<number>();

  constructor(carried?: CarriedBoard) {
    for (const a of carried?.active ?? []) this.active.set(a.number, { since: a.since, lastEvent: a.lastEvent });
    this.waiting = [...(carried?.waiting ?? [])];
  }

  /** An event from GitHub about pull request `number`. */
  event(number: number, action: PreviewAction, now: number, rules: PreviewRules): BoardStep[] {
    const up = this.active.get(number);
    if (action === 'closed') {
      this.waiting = this.waiting.filter((n) => n !== number);
      return up ? [{ kind: 'wake', number }] : [];
    }
    if (up) {
      up.lastEvent = now;
      return [{ kind: 'wake', number }];
    }
    if (this.waiting.includes(number)) return [{ kind: 'queued', number, position: this.waiting.indexOf(number) + 1 }];
    if (this.active.size < rules.max) return [this.start(number, now)];
    this.waiting.push(number);
    return [{ kind: 'queued', number, position: this.waiting.length }, ...this.makeRoom(rules)];
  }

  /** A preview ended (closed, idle past its time to live, asked to go): the first that waits takes its place. */
  ended(number: number, now: number, rules: PreviewRules): BoardStep[] {
    this.active.delete(number);
    this.leaving.delete(number);
    const steps: BoardStep[] = [];
    while (this.waiting.length > 0 && this.active.size < rules.max) steps.push(this.start(this.waiting.shift()!, now));
    return steps;
  }

  /** The workflow could not start pull request `number`'s preview: it is not up. */
  failedToStart(number: number): void {
    this.active.delete(number);
  }

  view(): BoardView {
    return {
      active: [...this.active].map(([number, a]) => ({ number, ...a, ...(this.leaving.has(number) ? { leaving: true } : {}) })),
      waiting: [...this.waiting],
    };
  }

  carry(): CarriedBoard {
    return { active: [...this.active].map(([number, a]) => ({ number, ...a })), waiting: [...this.waiting] };
  }

  private start(number: number, now: number): BoardStep {
    this.active.set(number, { since: now, lastEvent: now });
    return { kind: 'start', number };
  }

  /** With `remove-oldest`, asks as many of the previews idle longest to go as there are pull requests waiting without a place promised. */
  private makeRoom(rules: PreviewRules): BoardStep[] {
    if (rules.atMax !== 'remove-oldest') return [];
    const needed = this.waiting.length - this.leaving.size;
    const idlest = [...this.active]
      .filter(([n]) => !this.leaving.has(n))
      .sort(([a, x], [b, y]) => x.lastEvent - y.lastEvent || a - b)
      .slice(0, Math.max(0, needed));
    return idlest.map(([n]) => {
      this.leaving.add(n);
      return { kind: 'evict' as const, number: n, for: this.waiting[this.waiting.length - 1]! };
    });
  }
}
