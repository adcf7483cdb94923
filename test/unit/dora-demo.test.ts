/**
 * The DORA summary the demo prints at its end (infra/demo/dora-summary.ts), with the reading
 * handed in: it renders what `slipway metrics` renders, asks again while visibility still shows
 * a promotion running, and a summary that cannot be read is said without failing the demo.
 */
import { describe, expect, it } from 'vitest';
import type { CollectedSummary } from '../../client/commands/metrics.js';
import { computeDora, renderDoraSummary, type PromotionRecord } from '../../client/dora.js';
import { printDoraSummary } from '../../infra/demo/dora-summary.js';

const T0 = Date.UTC(2025, 0, 1);
const window = { since: T0, until: T0 + 10 * 60_000 };

function promotion(environment: string, at: number, outcome: PromotionRecord['outcome']): PromotionRecord {
  return {
    environment,
    kind: 'promote',
    promotionId: `promotion/todoapp/${environment}/${at}`,
    releaseId: `release/todoapp/${at}`,
    commit: String(at).padEnd(40, '0'),
    readyAt: T0 + at,
    startedAt: T0 + at + 100,
    outcome,
    ...(outcome === 'promoted' ? { healthyAt: T0 + at + 5_000 } : { failedAt: T0 + at + 3_000, restoredAt: T0 + at + 4_000 }),
  };
}

/** The demo's two releases: 1.3.0 to staging and production, 1.3.1 rolled back in staging. */
function summary(running = 0): CollectedSummary {
  const records = [promotion('staging', 0, 'promoted'), promotion('production', 60_000, 'promoted'), promotion('staging', 120_000, 'rolled-back')];
  return {
    app: 'todoapp',
    leadTimeFrom: 'release start (commit times are not recorded)',
    notes: running > 0 ? [`not counted: ${running} still running`] : [],
    notCounted: { running, cancelled: 0 },
    ...computeDora(records, window, ['staging', 'production']),
  };
}

describe('the demo’s DORA summary', () => {
  it('prints what slipway metrics prints, under a heading, once every promotion reads as ended', async () => {
    const said: string[] = [];
    const answers = [summary(1), summary(1), summary(0)];
    const pauses: number[] = [];
    await printDoraSummary(async () => answers.shift()!, (l) => said.push(l), async (ms) => void pauses.push(ms));
    expect(answers).toEqual([]);
    expect(pauses).toHaveLength(2);
    expect(said[1]).toMatch(/^━━ DORA metrics/);
    expect(said.slice(2)).toEqual(renderDoraSummary(summary()).map((l) => `  ${l}`));
    expect(said).toContain('    change failure rate   50% — 1 of 2 promotions (1 rolled back)');
    expect(said).toContain('    time to restore       p50 1s, p90 1s — over 1 restored failure');
  });

  it('stops asking after a few tries and prints what it has', async () => {
    const said: string[] = [];
    let asked = 0;
    await printDoraSummary(async () => (asked++, summary(1)), (l) => said.push(l), async () => undefined);
    expect(asked).toBe(5);
    expect(said.at(-1)).toBe('  note: not counted: 1 still running');
  });

  it('says when the summary cannot be read, and does not throw', async () => {
    const said: string[] = [];
    await printDoraSummary(async () => Promise.reject(new Error('deadline exceeded')), (l) => said.push(l));
    expect(said.at(-1)).toBe('  the DORA summary could not be read: deadline exceeded');
  });
});
