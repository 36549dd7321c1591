# fleetroll-agent for one machine. Build from the repository root:
#   docker build -f deploy/docker/agent.Dockerfile -t fleetroll-agent .
# It drives the HOST's Docker Engine and the HOST's HAProxy, so both sockets are mounted,
# and the journal must outlive the container:
#   docker run -d --name fleetroll-agent --restart unless-stopped --init \
#     -v /var/run/docker.sock:/var/run/docker.sock \
#     -v /run/haproxy:/run/haproxy \
#     -v /etc/fleetroll/agent.yml:/etc/fleetroll/agent.yml:ro \
#     -v /var/lib/fleetroll-agent:/var/lib/fleetroll-agent \
#     -p 10.0.0.11:7070:7070 fleetroll-agent
# Mount the socket's directory, not the socket: HAProxy re-creates the socket when it restarts,
# and a file bind mount would keep pointing at the old one. In agent.yml, grpc.listen must be
# 0.0.0.0:7070 for -p to reach it. Never name the agent's own container in its slots.
#
# Runs as root: access to the Docker socket is root on the host anyway. To run it as the
# image's `node` user instead, add the host's group ids of both sockets:
#   --user node --group-add "$(getent group docker | cut -d: -f3)" \
#     --group-add "$(getent group haproxy | cut -d: -f3)"
# (and make /var/lib/fleetroll-agent writable by uid 1000).

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
COPY agent agent
RUN npm run gen:proto && npx tsc -b agent

# Production dependencies of the agent workspace (and @fleetroll/shared) only.
FROM node:20-bookworm-slim AS deps
WORKDIR /src
COPY --from=build /src/package.json /src/package-lock.json /src/.npmrc ./
COPY --from=build /src/shared/package.json shared/
COPY --from=build /src/agent/package.json agent/
COPY --from=build /src/controller/package.json controller/
COPY --from=build /src/deploy/local/package.json deploy/local/
RUN npm ci --omit=dev --workspace=@fleetroll/agent

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/fleetroll
COPY --from=deps /src/package.json ./
COPY --from=deps /src/node_modules node_modules
# shared loads the .proto files at run time from ../proto, relative to its dist.
COPY --from=build /src/proto proto
COPY --from=build /src/shared/package.json shared/
COPY --from=build /src/shared/dist shared/dist
COPY --from=build /src/agent/package.json agent/
COPY --from=build /src/agent/dist agent/dist
RUN mkdir -p /var/lib/fleetroll-agent /etc/fleetroll
VOLUME ["/var/lib/fleetroll-agent"]
EXPOSE 7070
ENTRYPOINT ["node", "/opt/fleetroll/agent/dist/src/main.js"]
CMD ["--config", "/etc/fleetroll/agent.yml"]
