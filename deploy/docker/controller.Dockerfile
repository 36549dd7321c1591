# The controller and the `fleetroll` CLI. Build from the repository root:
#   docker build -f deploy/docker/controller.Dockerfile -t fleetroll-controller .
# Run (config, inventory and state from the host; the CLI inside the same image):
#   docker run -d --name fleetroll-controller \
#     -v /etc/fleetroll:/etc/fleetroll:ro -v fleetroll-controller:/var/lib/fleetroll-controller \
#     -p 127.0.0.1:7000:7000 -p 127.0.0.1:7080:7080 fleetroll-controller
#   docker exec fleetroll-controller fleetroll rollout status --watch
# In the container, controller.yml must listen on 0.0.0.0 (listen and http.listen) for -p to reach it.

FROM node:20-bookworm-slim AS build
WORKDIR /src
# Manifests first, so that the npm ci layer is reused until a dependency changes.
COPY package.json package-lock.json .npmrc tsconfig.base.json ./
COPY shared/package.json shared/
COPY agent/package.json agent/
COPY controller/package.json controller/
COPY deploy/local/package.json deploy/local/
RUN npm ci
COPY proto proto
COPY shared shared
COPY controller controller
RUN npm run gen:proto && npx tsc -b controller

# Production dependencies of the controller workspace (and @fleetroll/shared) only.
FROM node:20-bookworm-slim AS deps
WORKDIR /src
COPY --from=build /src/package.json /src/package-lock.json /src/.npmrc ./
COPY --from=build /src/shared/package.json shared/
COPY --from=build /src/agent/package.json agent/
COPY --from=build /src/controller/package.json controller/
COPY --from=build /src/deploy/local/package.json deploy/local/
RUN npm ci --omit=dev --workspace=@fleetroll/controller

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/fleetroll
COPY --from=deps /src/package.json ./
COPY --from=deps /src/node_modules node_modules
# shared loads the .proto files at run time from ../proto, relative to its dist.
COPY --from=build /src/proto proto
COPY --from=build /src/shared/package.json shared/
COPY --from=build /src/shared/dist shared/dist
COPY --from=build /src/controller/package.json controller/
COPY --from=build /src/controller/dist controller/dist
RUN printf '#!/bin/sh\nexec node /opt/fleetroll/controller/dist/src/cli/main.js "$@"\n' >/usr/local/bin/fleetroll \
    && chmod 755 /usr/local/bin/fleetroll \
    && mkdir -p /var/lib/fleetroll-controller /etc/fleetroll \
    && chown node:node /var/lib/fleetroll-controller
# The controller needs no privilege: the image's unprivileged user.
USER node
VOLUME ["/var/lib/fleetroll-controller"]
EXPOSE 7000 7080
ENTRYPOINT ["node", "/opt/fleetroll/controller/dist/src/main.js"]
CMD ["--config", "/etc/fleetroll/controller.yml"]
