# syntax=docker/dockerfile:1
# quizwire: multi-stage build, small non-root runtime image.
# The build stage compiles TypeScript, builds the web app and the native
# SQLite binding; the runtime stage carries only production dependencies.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/content ./content
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
# Liveness only: readiness (database, Redis) is for the load balancer to ask, at /health/ready.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM makes quizwire close sockets with 1001 (clients reconnect elsewhere) and flush its writes.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
