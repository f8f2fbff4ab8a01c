# The four service images, one target each (docs/architecture.md, "Images"):
#
#   DOCKER_BUILDKIT=1 docker build --network host --build-arg SERVICE=catalog \
#     --target catalog [--secret id=npmca,src="$(npm config get cafile)"] -t ecom/catalog:<tag> .
#
# `ecom build` runs exactly this for every service, tagged with the hash of its inputs.
# The optional npmca secret is the CA file npm is configured with, for networks whose
# TLS-inspecting proxy npm only trusts with it; it never lands in a layer.

# ---- build: dev dependencies, then one service's bundle and runtime files ----------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the project's own `prepare` (a full build) needs sources not yet here.
RUN --mount=type=secret,id=npmca \
    if [ -f /run/secrets/npmca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npmca npm_config_cafile=/run/secrets/npmca; fi; \
    npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=warn
COPY tsconfig.json tsup.config.ts ./
COPY src/images/runtime-package.ts src/images/
ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<catalog|search|order|frontend>" >&2; exit 1; }
COPY src/services/common src/services/common
COPY src/services/${SERVICE} src/services/${SERVICE}
# The project's tsup config, with this service's entry only.
RUN npx tsup --silent --entry.services/${SERVICE}/main src/services/${SERVICE}/main.ts --metafile \
 && npx tsx src/images/runtime-package.ts "$SERVICE" /out

# ---- runtime: production dependencies the bundle imports, dist, data files ---------
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
COPY --from=build /out/package.json /out/package-lock.json ./
RUN --mount=type=secret,id=npmca \
    if [ -f /run/secrets/npmca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npmca npm_config_cafile=/run/secrets/npmca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=warn \
 && npm cache clean --force --loglevel=error \
 && rm -rf /root/.npm /tmp/*
COPY --from=build /out/dist dist
COPY --from=build /out/src src
# A numeric user, so runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --gid 10001 ecom && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ecom
USER 10001:10001
ENV NODE_ENV=production HOST=0.0.0.0

# ---- one target per service: node runs the bundle directly, no npm in the start path -
FROM runtime AS catalog
RUN test -f dist/services/catalog/main.js
ENV PORT=5001
EXPOSE 5001
ENTRYPOINT ["node", "dist/services/catalog/main.js"]

FROM runtime AS search
RUN test -f dist/services/search/main.js
ENV PORT=5002
EXPOSE 5002
ENTRYPOINT ["node", "dist/services/search/main.js"]

FROM runtime AS order
RUN test -f dist/services/order/main.js
ENV PORT=5003
EXPOSE 5003
ENTRYPOINT ["node", "dist/services/order/main.js"]

FROM runtime AS frontend
RUN test -f dist/services/frontend/main.js
ENV PORT=5004
EXPOSE 5004
ENTRYPOINT ["node", "dist/services/frontend/main.js"]
