# Slipway's worker and webhook. One image, two commands:
#   worker  (default): node dist/worker/main.js
#   webhook:           node dist/client/webhook/main.js
# Configured from the environment (TEMPORAL_ADDRESS, SLIPWAY_CONFIG, GITHUB_TOKEN, ...; see README).
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: compile TypeScript and prebundle the workflows (dist/workflow-bundle.js)
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY config ./config
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY client ./client
COPY infra ./infra
RUN npm run build

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
USER node
EXPOSE 8080
CMD ["node", "dist/worker/main.js"]
