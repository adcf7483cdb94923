/**
 * The worker's policy in tests: a real slipway.yaml file read by the real PolicyStore, as a worker
 * reads its own. Tests that build pipelines with `pipelineFromYaml` add their app to the suite's
 * policy file (one per test process), so the worker knows it before the release asks for it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyStore } from '../../activities/policy/index.js';

export class TestPolicy {
  readonly file: string;
  readonly store: PolicyStore;
  private readonly apps = new Map<string, string>();

  /** `header` holds everything above `apps:` (gitops, engine); `text`, when given, is the whole file. */
  constructor(private readonly header: string, text?: string) {
    this.file = join(mkdtempSync(join(tmpdir(), 'slipway-policy-')), 'slipway.yaml');
    writeFileSync(this.file, text ?? `${header}\napps: {}\n`);
    this.store = new PolicyStore({ kind: 'file', path: this.file });
  }

  /** A policy that is exactly this file text. */
  static fromText(text: string): TestPolicy {
    return new TestPolicy('', text);
  }

  /** Adds (or replaces) one app: `appYaml` is its entry under `apps:`, indented by two spaces. */
  addApp(app: string, appYaml: string): void {
    this.apps.set(app, appYaml);
    writeFileSync(this.file, `${this.header}\napps:\n${[...this.apps.values()].join('\n')}\n`);
  }

  /** Takes one app out (its owner dropping it): deliveries about it are not its any more. */
  removeApp(app: string): void {
    this.apps.delete(app);
    writeFileSync(this.file, `${this.header}\napps:\n${[...this.apps.values()].join('\n')}\n`);
  }

  /** Replaces the whole file (an owner changing the policy). */
  write(text: string): void {
    writeFileSync(this.file, text);
  }
}

/** Where pipelines built from YAML in workflow tests point (the FakeWorld ignores the remote). */
export const WORKFLOW_TEST_HEADER = `
gitops: { url: /tmp/unused-in-workflow-tests.git, branch: main }
engine: { heartbeatTimeout: 2s, stepTimeout: 20s }`;

let suite: TestPolicy | undefined;

/** The policy of this test process's workers, unless a test gives one of its own. */
export function suitePolicy(): TestPolicy {
  return (suite ??= new TestPolicy(WORKFLOW_TEST_HEADER));
}
