# syntax=docker/dockerfile:1
# The Life XP server: one bundle (apps/server/dist) and its production dependencies, run by plain node.
#   docker build -t lifexp .
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://… lifexp            (ROLE=all)
#   docker run … -e ROLE=worker lifexp                                      (the job queues only)

ARG NODE_VERSION=20.19

# ---- build: install from the lockfile alone, build the bundle (and the web app, when there is one)
FROM node:${NODE_VERSION}-bookworm-slim AS build
ENV PNPM_HOME=/pnpm CI=true TURBO_TELEMETRY_DISABLED=1
ENV PATH=$PNPM_HOME:$PATH
RUN npm install -g pnpm@12.4.2
WORKDIR /repo
# Only the lockfile and workspace file: this layer (every package in the store) is cached until they change.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm fetch
COPY . .
RUN --mount=type=cache,id=pnpm,target=/pnpm/store \
    pnpm install --offline --frozen-lockfile \
 && pnpm build \
 && pnpm --filter @lifexp/server deploy --prod --offline /out \
 && rm -rf /out/dist && cp -r apps/server/dist /out/dist

# ---- runtime: the bundle and the production dependencies only, as an unprivileged user
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# tini as PID 1: SIGTERM reaches node (which shuts down gracefully) and zombies are reaped.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=build --chown=node:node /out/package.json ./package.json
COPY --from=build --chown=node:node /out/node_modules ./node_modules
COPY --from=build --chown=node:node /out/dist ./dist
# The embedded database's directory (used only without DATABASE_URL); mount a volume here.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.mjs"]
