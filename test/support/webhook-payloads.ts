/**
 * Real GitHub `push` payloads (from @octokit/webhooks-examples), adapted to a tag push, and signed
 * the way GitHub signs deliveries.
 */
import { createRequire } from 'node:module';
import { Webhooks } from '@octokit/webhooks';
import { parseConfig, type SlipwayConfig } from '../../config/schema.js';

interface WebhookExamples {
  name: string;
  examples: Array<Record<string, unknown>>;
}

const require = createRequire(import.meta.url);
const all = require('@octokit/webhooks-examples') as WebhookExamples[];
const pushExamples = all.find((e) => e.name === 'push')!.examples;

/** GitHub's example of a created tag (`refs/tags/simple-tag` in Codertocat/Hello-World). */
export function tagPushPayload(tag: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const example = pushExamples.find((e) => String(e.ref).startsWith('refs/tags/') && e.created === true)!;
  return { ...structuredClone(example), ref: `refs/tags/${tag}`, ...overrides };
}

/** GitHub's example of a branch push. */
export function branchPushPayload(): Record<string, unknown> {
  return structuredClone(pushExamples.find((e) => String(e.ref).startsWith('refs/heads/'))!);
}

/** GitHub's example of a deleted tag. */
export function tagDeletePayload(tag: string): Record<string, unknown> {
  const example = pushExamples.find((e) => String(e.ref).startsWith('refs/tags/') && e.deleted === true)!;
  return { ...structuredClone(example), ref: `refs/tags/${tag}` };
}

export function sign(secret: string, body: string): Promise<string> {
  return new Webhooks({ secret }).sign(body);
}

/** A config with one app whose source is the repository of GitHub's example payloads. */
export function helloWorldConfig(): SlipwayConfig {
  return parseConfig(
    `
gitops: { url: /tmp/gitops.git }
apps:
  hello:
    source: { github: Codertocat/Hello-World }
    images: [hello/web]
    environments:
      - { name: staging, overlay: o/staging, argocd: { application: hello-staging } }
      - { name: production, overlay: o/production, argocd: { application: hello-production } }
`,
    'test.yaml',
  );
}
