# Sourced by install-deps.sh and test.sh: the Node LTS the image runs (Dockerfile's NODE_IMAGE,
# same major), kept by version in ~/.cache/slipway. The suite runs on it as well as on the
# machine's Node.
NODE_LTS_VERSION=24.22.3
NODE_LTS_DIR="${HOME}/.cache/slipway/node-v${NODE_LTS_VERSION}"
