# Slipway's worker and webhook. One image, two commands:
#   worker  (default): node dist/worker/main.js
#   webhook:           node dist/client/webhook/main.js
# Configured from the environment (TEMPORAL_ADDRESS, SLIPWAY_CONFIG, GITHUB_TOKEN, ...; see README).
# Only runtime code goes in: infra/ (the servers the tests and the demo start), test/, bench/ and
# scripts/ stay out, and test/integration/deploy-manifests.test.ts checks that they do.
ARG NODE_IMAGE=node:20-bookworm-slim
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
# git (+ ssh) for the GitOps repository, pg_dump/pg_restore for backups.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=kustomize /go/bin/kustomize /usr/local/bin/kustomize
USER node
EXPOSE 8080
CMD ["node", "dist/worker/main.js"]
