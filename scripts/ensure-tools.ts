/** Builds (first run) or finds (later runs) every Go-built tool the suite uses, before tests start. */
import { temporalCliPath } from '../infra/temporal/cli.js';

const tools: Array<[string, () => string]> = [['temporal', temporalCliPath]];

for (const [name, ensure] of tools) {
  const started = Date.now();
  const path = ensure();
  console.log(`${name}: ${path} (${Math.round((Date.now() - started) / 1000)}s)`);
}
