/** The benches' workflow bundle entry: Slipway's real workflows plus the baseline and the crash bench's git step, in one bundle. */
export * from '../workflows/index.js';
export { baseline } from './baseline-workflow.js';
export { gitStep } from './git-step-workflow.js';
