/**
 * Every workflow the worker runs. Deterministic code only: workflows import `@temporalio/workflow`,
 * the pure code in core/ and types, never I/O. A change running workflows depend on goes behind
 * `patched()` and keeps test/integration/replay.test.ts green (README.md, end of "Layout").
 */
export { release } from './release.js';
export { environment } from './environment.js';
export { promotion } from './promotion.js';
export * from './backup.js';
export { describePolicy } from './policy.js';
export { previews } from './previews.js';
export { preview } from './preview.js';
