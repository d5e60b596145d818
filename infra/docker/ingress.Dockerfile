# syntax=docker/dockerfile:1
# Build from the repository root:
#   docker build -f infra/docker/ingress.Dockerfile -t cap-ingress .
#
# Everything above the "app image" line is the same in ingress, worker and simulator
# Dockerfiles but for the APP argument (test/infra.test.ts keeps them so). Each image holds one
# app: the workspaces `turbo prune` keeps for it, built from the one committed lockfile, and at
# run time only the production dependencies of the workspaces it runs. The steps longer than one
# command are in infra/docker/image.mjs, which test/images.test.ts runs outside Docker and then
# starts each app from the runtime tree they produce.

# Node 24.21.0 on Debian bookworm (slim), pinned to the tag's multi-platform index digest, so a
# re-pushed tag cannot change what is built. OPERATIONS.md ("Upgrades") says how to move it.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:2fe369e969550cde8e867afc3fe370b260140cab4a23d467074295b42163d553
ARG APP=ingress

FROM ${NODE_IMAGE} AS base
# The npm that wrote package-lock.json (package.json "packageManager"), so `npm ci` reads the
# lockfile exactly as it was written, and the turbo of the lockfile for the prune stage.
ARG NPM_VERSION=11.19.1
ARG TURBO_VERSION=2.11.11
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false \
    TURBO_TELEMETRY_DISABLED=1
RUN npm install --global "npm@${NPM_VERSION}" "turbo@${TURBO_VERSION}"
COPY infra/docker/image.mjs /usr/local/lib/cap/image.mjs
WORKDIR /app

# The app's slice of the repository: json/ (manifests and lockfile, all the build installs),
# full/ (sources) and prod/ (manifests of the workspaces the app runs). Only json/ and prod/
# decide the dependency layers, so editing source does not reinstall node_modules.
FROM base AS prune
ARG APP
COPY . /src
RUN cd /src && node /usr/local/lib/cap/image.mjs prune "${APP}" /pruned

FROM base AS deps
COPY --from=prune /pruned/json/ ./
# Install scripts stay off, as on developer machines (package.json "allowScripts"): the native
# addons used here ship prebuilt binaries as optional dependencies.
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --ignore-scripts

FROM deps AS build
ARG APP
COPY --from=prune /pruned/full/ ./
# Then what the runtime needs of each workspace the app runs: package.json (its "exports" point
# at dist/) and its "files": dist/, and data/ or assets/ where a package reads files at run time
# (Clockify's manifest schemas, OpenAPI spec and public key; the add-on icon).
RUN turbo run build --output-logs=errors-only \
 && node /usr/local/lib/cap/image.mjs collect "${APP}" /out

# Production dependencies of the workspaces the app runs, and nothing else: no PGlite (an optional
# peer of @cap/db, for local runs), no simulator, test kit or build tools. --legacy-peer-deps
# keeps npm from installing optional peers the lockfile holds for the build (TypeScript, named
# by Bull Board's validator); the peers the apps need are also plain dependencies, and
# test/images.test.ts runs the apps from this tree.
FROM base AS prod-deps
COPY --from=prune /pruned/prod/ ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev --legacy-peer-deps --ignore-scripts

FROM ${NODE_IMAGE} AS runtime
# .container-image (below) keeps production the default even where NODE_ENV is set to nothing.
ENV NODE_ENV=production
WORKDIR /app
# npm and corepack are not used at run time; without them the image has less to patch.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && mkdir -p /app/.data \
 && touch /app/.container-image \
 && chown 1000:1000 /app/.data
# Code and dependencies stay owned by root: the process (uid 1000) can read them, not change them.
COPY --from=prod-deps /app/ ./
COPY --from=build /out/ ./

# ---- app image ----
FROM runtime AS ingress
LABEL org.opencontainers.image.title="cap-ingress" \
      org.opencontainers.image.description="Clockify add-on platform: HTTP ingress (manifest, lifecycle, webhooks, UI, admin)"
ENV PORT=8080
# /health, detailed /ready and /metrics for Prometheus and probes; keep it off public listeners.
ENV INGRESS_OPS_PORT=8082
RUN test -f apps/ingress/dist/main.js
EXPOSE 8080 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# The base image's `node` user, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
CMD ["node", "apps/ingress/dist/main.js"]
