# Vigie container image: one static binary that runs any stage
# (vigie run|ingest|graph|index|alert|serve|kibana import).
#
#   docker build -t vigie:dev .
#   docker run --rm -p 8080:8080 vigie:dev          # embedded default: replays the bundled scenario
#
# deploy/docker-compose.yml and deploy/k8s/ run one stage per container.

# --- build: a static, reproducible binary (pure Go: the SQLite driver needs no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOFLAGS=-trimpath \
    go build -ldflags "-s -w -X github.com/vigie-osint/vigie/app.Version=${VERSION}" -o /out/vigie ./cmd/vigie \
 && /out/vigie version

# --- run: Alpine rather than distroless so that healthchecks have wget
# (busybox) without a second binary; the process runs as an unprivileged user.
FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
 && addgroup -S -g 10001 vigie && adduser -S -D -H -u 10001 -G vigie vigie \
 && mkdir -p /var/lib/vigie && chown vigie:vigie /var/lib/vigie
COPY --from=build /out/vigie /usr/local/bin/vigie
# The bundled 2017 scenario, so an image started with no input has
# something to replay.
COPY --from=build /src/testdata/scenario/ /usr/share/vigie/scenario/
USER 10001:10001
WORKDIR /var/lib/vigie
ENV VIGIE_DATA_DIR=/var/lib/vigie \
    VIGIE_HTTP_ADDR=0.0.0.0:8080 \
    VIGIE_INGEST_SOURCE=/usr/share/vigie/scenario/posts.jsonl
EXPOSE 8080
VOLUME ["/var/lib/vigie"]
ENTRYPOINT ["/usr/local/bin/vigie"]
CMD ["run"]
