/**
 * infra/prometheus/slipway-alerts.yml through Debian's promtool (installed with prometheus by
 * scripts/install-deps.sh): the file is valid rules, and slipway-alerts.test.yml's series show the
 * stale-backup alert firing for a backup older than twice its schedule and not for a fresh one,
 * and the rollback alert firing after a failed rollback until a promotion leaves the environment
 * healthy.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const PROMTOOL = process.env.SLIPWAY_PROMTOOL || '/usr/bin/promtool';
const promtool = (...args: string[]) => execFileSync(PROMTOOL, args, { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });

describe('the alert rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', 'infra/prometheus/slipway-alerts.yml')).toMatch(/SUCCESS: 2 rules found/);
  });

  it('fire as slipway-alerts.test.yml expects (promtool test rules): stale backups and environments left unhealthy by a failed rollback', () => {
    expect(promtool('test', 'rules', 'infra/prometheus/slipway-alerts.test.yml')).toMatch(/SUCCESS/);
  });
});
