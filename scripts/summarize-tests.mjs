// Prints the suite's closing line in the plain form CI reads: "tests: N passed, N failed".
import { readFileSync } from 'node:fs';
const results = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = (results.numPendingTests ?? 0) + (results.numTodoTests ?? 0);
console.log(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
