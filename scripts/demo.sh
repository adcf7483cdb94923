#!/usr/bin/env bash
# `npm start`: the Slipway demo from a fresh clone. Installs what it needs (Debian packages, npm
# packages, the Go-built Temporal CLI, apiextensions-apiserver and kustomize — cached after the
# first run), builds, and runs infra/demo. Arguments go to the demo: --once, --state-dir <dir>.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
npm run build --silent
exec node dist/infra/demo/main.js "$@"
