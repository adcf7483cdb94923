#!/usr/bin/env bash
# The test command (`npm test`): installs what it needs, builds, and runs the whole suite against
# real servers started on loopback. Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build --silent
mkdir -p test-output
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/results.json "$@" || status=$?
node scripts/summarize-tests.mjs test-output/results.json || true
exit $status
