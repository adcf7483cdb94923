#!/usr/bin/env bash
# The test command (`npm test`): installs what it needs, builds, and runs the whole suite against
# real servers started on loopback, on the Node LTS the image runs (scripts/node-lts.sh); then,
# on this machine's Node, the unit tier. Extra arguments go to vitest (e.g. a file filter) and
# run on the image's Node only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
source scripts/node-lts.sh
npm run build --silent
mkdir -p test-output
status=0
rm -f test-output/results.json
echo "the suite on Node $("$NODE_LTS_DIR/bin/node" --version), the image's (and every process it starts)"
PATH="$NODE_LTS_DIR/bin:$PATH" npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/results.json "$@" || status=$?
reports=(test-output/results.json)
if [ $# -eq 0 ]; then
  # The whole suite again would double the run; the pure code is where a Node difference shows first.
  echo "the unit tier on this machine's Node $(node --version)"
  rm -f test-output/results-unit-machine-node.json
  SLIPWAY_TEST_TEMPORAL=off npx vitest run test/unit --reporter=default --reporter=json --outputFile.json=test-output/results-unit-machine-node.json || status=$?
  reports+=(test-output/results-unit-machine-node.json)
fi
node scripts/summarize-tests.mjs "${reports[@]}" || true
exit $status
