# syntax=docker/dockerfile:1
# One small image for both programs: heartbeat-aggregator (the default command) and heartbeat-agent.
# It runs the build (dist/: JavaScript compiled from the TypeScript sources, the fleet page bundled),
# exactly what `npm install -g fil-heartbeat` installs, with the production dependencies only.

# --- stage 1: the build (npm run build) -----------------------------------------------------------
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the npm "node" package (a Node 24 for machines whose system Node is older) is not
# needed on a Node 24 image, and the build runs below, once the sources are in.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY shared ./shared
COPY agent ./agent
COPY aggregator ./aggregator
RUN node scripts/build.ts

# --- stage 2: production dependencies only --------------------------------------------------------
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# cbor-x works without its optional native extension; nothing else installs anything. The dependency
# patches (patches/README.md: cheaper per connection and per beat) are applied to what ships, with
# patch-package fetched for this step only, as a clone's `npm install` applies them.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npx --yes patch-package@8.0.1 --error-on-fail \
 && rm -rf patches \
 && npm cache clean --force

# --- stage 3: the runtime -------------------------------------------------------------------------
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /src/dist ./dist
# The programs on PATH (package.json "bin"); /data for the keys (and the aggregator's state), owned by the unprivileged user.
RUN ln -s /app/dist/aggregator/main.js /usr/local/bin/heartbeat-aggregator \
 && ln -s /app/dist/agent/main.js /usr/local/bin/heartbeat-agent \
 && mkdir -p /data \
 && chown node:node /data
# The image's non-root user (uid 1000).
USER node
ENV HEARTBEAT_AGGREGATOR_DATA_DIR=/data \
    HEARTBEAT_AGGREGATOR_HTTP=0.0.0.0:8080 \
    HEARTBEAT_AGENT_KEY_FILE=/data/agent.key
VOLUME ["/data"]
# libp2p (heartbeats) and HTTP (page, API, probes, metrics).
EXPOSE 4100 8080
CMD ["heartbeat-aggregator"]
