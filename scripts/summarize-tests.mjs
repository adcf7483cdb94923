// Prints the suite's closing line in the plain form CI reads: "tests: N passed, N failed", summed
// over the vitest JSON reports given (the suite on the image's Node, the unit tier on the machine's).
import { existsSync, readFileSync } from 'node:fs';
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  // A run that died before writing its report counts as a failure, not as nothing.
  if (!existsSync(file)) {
    console.log(`${file}: no report`);
    failed += 1;
    continue;
  }
  const results = JSON.parse(readFileSync(file, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  skipped += (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
