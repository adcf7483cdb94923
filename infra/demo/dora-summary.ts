/**
 * The demo's last words: the DORA figures of the releases it just ran, read and rendered by the
 * same code as `slipway metrics` (client/commands/metrics.ts, client/dora.ts).
 */
import type { CollectedSummary } from '../../client/commands/metrics.js';
import { renderDoraSummary } from '../../client/dora.js';

type Say = (line: string) => void;

/** Asked again this many times while a promotion still reads as running. */
const ATTEMPTS = 5;
const PAUSE_MS = 500;

/**
 * Prints the summary `collect` reads. Every promotion of the demo has ended by now, but visibility
 * may show a close a moment after it happened: while one still reads as running, it asks again.
 * A summary that cannot be read is said, and changes nothing about the demo's outcome.
 */
export async function printDoraSummary(collect: () => Promise<CollectedSummary>, say: Say, pause = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<void> {
  say('');
  say('━━ DORA metrics of the demo\'s releases (as `slipway metrics todoapp` prints them):');
  try {
    let summary = await collect();
    for (let attempt = 1; attempt < ATTEMPTS && summary.notCounted.running > 0; attempt++) {
      await pause(PAUSE_MS);
      summary = await collect();
    }
    for (const line of renderDoraSummary(summary)) say(`  ${line}`);
  } catch (err) {
    say(`  the DORA summary could not be read: ${(err as Error).message}`);
  }
}
