/**
 * A bench worker's policy: a real slipway.yaml file read by the real PolicyStore, as the product's
 * worker reads its own. A bench writes every app it will release before its worker starts, so the
 * file is read and parsed once rather than once per app during the measurement.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyStore } from '../activities/policy/index.js';

export class BenchPolicy {
  readonly file: string;
  readonly store: PolicyStore;

  constructor(text: string) {
    this.file = join(mkdtempSync(join(tmpdir(), 'slipway-bench-policy-')), 'slipway.yaml');
    writeFileSync(this.file, text);
    this.store = new PolicyStore({ kind: 'file', path: this.file });
  }
}
