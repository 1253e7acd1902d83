# syntax=docker/dockerfile:1
# Switchboard as one self-contained binary (a Node single executable) on a minimal runtime image.
#
#   docker build -t switchboard .
#   docker run --rm -p 7000:7000 -p 7001:7001 -v switchboard-data:/var/lib/switchboard switchboard
#
# Embedded store by default (data in the volume); set SWITCHBOARD_ETCD_ENDPOINTS for etcd.
# The build stage must use the same libc family as the runtime stage (Debian 12 / glibc) because
# the binary is that stage's Node with our code injected.

FROM node:24-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The SDK is an npm workspace: npm ci needs its package.json to install the lockfile.
COPY packages/client/package.json packages/client/package.json
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY generated generated
COPY proto proto
COPY src src
COPY packages/client/src packages/client/src
COPY scripts scripts
# The runtime inside the binary is the Node that runs the build here (Node 24 LTS, the image's own).
RUN npm run build:binary -- --node "$(command -v node)" \
 && ./dist/switchboard --version \
 && mkdir -p /out/data

# distroless/cc: glibc and libstdc++ (all the Node runtime links against), no shell, no package
# manager; ":nonroot" runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/switchboard /usr/local/bin/switchboard
COPY --from=build --chown=65532:65532 /out/data /var/lib/switchboard
ENV SWITCHBOARD_LISTEN=0.0.0.0:7000 \
    SWITCHBOARD_HTTP_LISTEN=0.0.0.0:7001 \
    SWITCHBOARD_DATA_DIR=/var/lib/switchboard
VOLUME ["/var/lib/switchboard"]
EXPOSE 7000 7001
USER 65532:65532
# grpc.health.v1.Health/Check against this replica's own gRPC port; the binary is its own probe
# (there is no shell, curl or grpcurl in the image).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/switchboard", "health-check", "--address", "127.0.0.1:7000", "--timeout", "2000"]
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve"]
