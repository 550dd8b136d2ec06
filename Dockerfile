# syntax=docker/dockerfile:1

# honeyapi: a static binary on distroless, running as a non-root user.
#
#   docker build -t honeyapi .
#   docker run --rm -p 8080:8080 -v honeyapi-data:/data honeyapi
#
# The admin listener stays on the container's loopback unless you choose
# otherwise; to reach it from the host only:
#   docker run --rm -p 8080:8080 -p 127.0.0.1:8081:8081 \
#     -e HONEYAPI_ADMIN_LISTEN=0.0.0.0:8081 -v honeyapi-data:/data honeyapi

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOTOOLCHAIN=local

# Modules first, so source edits do not invalidate the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/honeyapi ./cmd/honeyapi \
 && mkdir -p /out/data

# distroless/static: CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/honeyapi /usr/local/bin/honeyapi
# /data holds the database and its key file (<db>.key, mode 0600). A named
# volume mounted there inherits this ownership; a bind-mounted host
# directory must be writable by uid 65532.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
# An environment default rather than a flag, so a config file or -e can
# still move the database.
ENV HONEYAPI_DB=/data/honeyapi.db
# 8080: decoys. 8081: admin (bound to the container's loopback by default).
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/honeyapi", "serve"]
