# syntax=docker/dockerfile:1
# Build from the repository root:
#   docker build -f infra/docker/ingress.Dockerfile -t cap-ingress .
#
# Everything above the "app image" line is the same in ingress, worker and simulator
# Dockerfiles (test/infra.test.ts keeps them identical), so BuildKit builds it once for all
# three and every image carries the same dependency tree from the one committed lockfile.

ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS base
# The npm that wrote package-lock.json (package.json "packageManager"), so `npm ci` reads the
# lockfile exactly as it was written.
ARG NPM_VERSION=11.19.1
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false \
    TURBO_TELEMETRY_DISABLED=1
RUN npm install --global "npm@${NPM_VERSION}"
WORKDIR /app

# Only the lockfile and the package manifests decide the dependency layers: editing source does
# not reinstall node_modules, because the COPY --from below compares content, not timestamps.
FROM base AS manifests
COPY . /src
RUN mkdir -p /out \
 && cd /src \
 && cp package.json package-lock.json turbo.json /out/ \
 && find packages addons apps -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /out/ \;

FROM base AS deps
COPY --from=manifests /out/ ./
# Install scripts stay off, as on developer machines (package.json "allowScripts"): the native
# addons used here ship prebuilt binaries as optional dependencies.
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --ignore-scripts

FROM deps AS build
COPY . .
RUN npx turbo run build --output-logs=errors-only
# What the runtime needs of each workspace: package.json (its "exports" point at dist/), dist/,
# and data/ where a package reads files at run time (packages/clockify/data: manifest schemas,
# OpenAPI spec, Clockify public key). turbo.json and package.json mark the repository root.
RUN mkdir -p /out \
 && cp package.json turbo.json /out/ \
 && for ws in packages/* addons/* apps/*; do \
      if [ -f "$ws/package.json" ]; then \
        mkdir -p "/out/$ws" && cp "$ws/package.json" "/out/$ws/"; \
        if [ -d "$ws/dist" ]; then cp -R "$ws/dist" "/out/$ws/"; fi; \
        if [ -d "$ws/data" ]; then cp -R "$ws/data" "/out/$ws/"; fi; \
      fi; \
    done \
 && if [ -d scripts ]; then cp -R scripts /out/; fi \
 && test -f /out/packages/clockify/data/clockify-addon-public-key.pem

FROM base AS prod-deps
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev --ignore-scripts

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
