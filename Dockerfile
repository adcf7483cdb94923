# Slipway's worker and webhook. One image, two commands:
#   worker  (default): node dist/worker/main.js
#   webhook:           node dist/client/webhook/main.js
# Configured from the environment (TEMPORAL_ADDRESS, SLIPWAY_CONFIG, GITHUB_TOKEN, ...; see README).
# Only runtime code goes in: infra/ (the servers the tests and the demo start), test/, bench/ and
# scripts/ stay out, and test/integration/runtime-image.test.ts checks that they do.
# Node 24, the active LTS (Node 20 left support on 2026-04-30), on Debian 13, whose
# postgresql-client is 17: pg_dump refuses servers newer than itself.
# Pin by digest for reproducible, tamper-evident builds: resolve the tag once with
#   docker buildx imagetools inspect node:24-trixie-slim   (the "Digest:" line of the index)
# and build with --build-arg NODE_IMAGE=node:24-trixie-slim@sha256:<that digest> (same for
# GO_IMAGE), or write it here; let Renovate or Dependabot move it. A digest is not written here
# because it can only be read from the registry, and an unchecked one would break every build.
ARG NODE_IMAGE=node:24-trixie-slim
ARG GO_IMAGE=golang:1.26-bookworm
ARG KUSTOMIZE_VERSION=v5.8.1

# ---- kustomize: every overlay edit is rendered with `kustomize build` before it is committed
FROM ${GO_IMAGE} AS kustomize
ARG KUSTOMIZE_VERSION
RUN GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install -ldflags "-s -w" sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}

# ---- build: compile the runtime code (tsconfig.runtime.json) and prebundle the workflows
# (dist/workflow-bundle.js)
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.runtime.json ./
COPY core ./core
COPY config ./config
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
RUN npm run build:runtime

# ---- deps: production node_modules only (the Temporal worker's native bridge included)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
# git (+ ssh) for the GitOps repository, pg_dump/pg_restore for backups. postgresql-client is
# Debian's supported major for the release, which only moves up with the base image: in Debian 13
# (trixie) it is 17 (17+278 in Debian's package index, checked when this line was written; trixie
# carries no other major, 18 is only in experimental), so this pg_dump dumps servers up to 17.
# Before each dump the worker compares it with the server and refuses a newer server, naming both
# versions. For PostgreSQL 18 servers add PostgreSQL's own apt repository (PGDG) and install
# postgresql-client-18 here: the newest /usr/lib/postgresql/<major>/bin is the one the worker uses.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# The worker's version in its worker deployment (worker/versioning.ts): build with
# `--build-arg SLIPWAY_BUILD_ID=$(git describe --always --dirty)` and a new image takes over the
# releases in flight as it starts. Left empty, the worker runs unversioned.
ARG SLIPWAY_BUILD_ID=""
ENV SLIPWAY_WORKER_BUILD_ID=${SLIPWAY_BUILD_ID}
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=kustomize /go/bin/kustomize /usr/local/bin/kustomize
# The backup folder docker-compose.yml mounts a named volume on (and SLIPWAY_BACKUP_DIR names):
# a new volume takes this folder's owner, so the node user can write its backups there.
RUN install -d -o node -g node /var/lib/slipway/backups
USER node
EXPOSE 8080
CMD ["node", "dist/worker/main.js"]
