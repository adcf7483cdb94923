/**
 * Which Temporal a scenario shared by several test files runs on (test/support/random-kill-real.ts):
 * the suite's dev server, unless the importing test file names another before it imports the scenario.
 */
import { temporalAddress } from './temporal.js';

let current = { label: 'the Temporal dev server', address: temporalAddress };

export function runScenarioOn(label: string, address: () => string): void {
  current = { label, address };
}

export const scenarioTemporal = () => current;
