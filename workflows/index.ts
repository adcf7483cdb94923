/** Every workflow the worker runs. Deterministic code only: see workflows/README.md. */
export { release } from './release.js';
export { environment } from './environment.js';
export { promotion } from './promotion.js';
export * from './backup.js';
