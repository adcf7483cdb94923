/**
 * The Temporal UI as a person uses it: open it on a finished release, filter by the app's search
 * attribute, find the release, its stage and the steps' summaries in words. Screenshots are kept
 * under test-output/ui/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startReleaseWorkflow } from '../../client/start-release.js';
import { releaseWorkflowId } from '../../core/ids.js';
import { launchBrowser } from '../support/browser.js';
import { STAGING_AND_PRODUCTION, commitSha, newWorld, pipelineFromYaml, uniqueApp } from '../support/pipelines.js';
import { startTestWorker, testClient, type RunningWorker } from '../support/temporal.js';

const shots = join(process.cwd(), 'test-output', 'ui');
let browser: Browser;
let worker: RunningWorker;

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await worker?.stop();
});

it('finds a finished release by its app, with its stage and step summaries', async () => {
  const uiUrl = inject('temporalUiUrl');
  expect(uiUrl, 'the suite starts the dev server with its Web UI').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const app = uniqueApp('ui');
  const world = newWorld(app);
  const pipeline = pipelineFromYaml(app, STAGING_AND_PRODUCTION({ stagingChecks: '[]' }));
  worker = await startTestWorker(world.activities());
  const client = await testClient();
  const commit = commitSha();
  const workflowId = releaseWorkflowId(app, commit);
  const { handle } = await startReleaseWorkflow(client, {
    workflowId,
    taskQueue: worker.taskQueue,
    input: { app: pipeline.app, commit, version: '2.7.1', trigger: 'test' },
  });
  expect((await handle.result()).outcome).toBe('released');

  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  // The list, filtered the way a person filters: by the SlipwayApp search attribute.
  await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`SlipwayApp="${app}"`)}`);
  const row = page.getByRole('link', { name: workflowId, exact: true });
  await row.waitFor({ timeout: 30_000 });
  await expect(page.getByRole('link', { name: `env/${app}/production`, exact: true }).count()).resolves.toBe(1);
  await page.screenshot({ path: join(shots, 'workflows-filtered-by-app.png') });
  const others = (await page.getByRole('link', { name: /^\s*release\// }).allTextContents()).map((t) => t.trim());
  expect(others, "only this app's releases are listed").toEqual([workflowId]);

  // The release itself: its summary, its steps in words, its stage.
  await row.click();
  await page.getByText('Event History').first().waitFor({ timeout: 30_000 });
  await page.getByText(`ask env/${app}/production to promote 2.7.1`).first().waitFor({ timeout: 30_000 });
  await expect(page.getByText(`release ${app} 2.7.1`).count()).resolves.toBeGreaterThan(0);
  await expect(page.getByText(`read the policy for ${app}`).count(), 'the policy read is a step of its own').resolves.toBeGreaterThan(0);
  await page.screenshot({ path: join(shots, 'release-history.png'), fullPage: true });

  await page.getByRole('tab', { name: 'Search Attributes' }).or(page.getByText('Search Attributes', { exact: true })).first().click();
  await page.getByText('SlipwayStage').first().waitFor({ timeout: 15_000 });
  const body = await page.textContent('body');
  expect(body).toMatch(/"SlipwayStage":\s*"released"/);
  expect(body).toMatch(/"SlipwayVersion":\s*"2\.7\.1"/);
  await page.screenshot({ path: join(shots, 'release-search-attributes.png'), fullPage: true });
  await page.close();
});
