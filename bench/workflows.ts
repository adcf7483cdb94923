/** The benches' workflow bundle entry: Slipway's real workflows plus the baseline, in one bundle. */
export * from '../workflows/index.js';
export { baseline } from './baseline-workflow.js';
