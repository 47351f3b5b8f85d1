# syntax=docker/dockerfile:1
# One small image for both programs: heartbeat-aggregator (the default command) and heartbeat-agent.
# Node 24 runs our TypeScript sources directly (type stripping): there is no build step, only the
# sources and the production node_modules. Node refuses to strip types under node_modules, so the
# app lives in /app.

# --- stage 1: production dependencies only --------------------------------------------------------
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the npm "node" package (a Node 24 binary for machines whose system Node is older)
# is not needed on a Node 24 image, and cbor-x works without its optional native extension.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/node node_modules/.bin/node \
 && npm cache clean --force

# --- stage 2: the runtime -------------------------------------------------------------------------
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY shared ./shared
COPY agent ./agent
COPY aggregator ./aggregator
# The programs on PATH; /data for the keys (and the aggregator's state), owned by the unprivileged user.
RUN ln -s /app/bin/heartbeat-aggregator.js /usr/local/bin/heartbeat-aggregator \
 && ln -s /app/bin/heartbeat-agent.js /usr/local/bin/heartbeat-agent \
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
