/** `npm run build` step: writes dist/workflow-bundle.js so the worker starts without webpack. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWorkflowBundle } from './bundle-code.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'workflow-bundle.js');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, await buildWorkflowBundle());
console.log(`workflow bundle written to ${out}`);
