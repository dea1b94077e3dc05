# redirlab as one static binary in a distroless image, running as non-root.
#   docker build -t redirlab .
#   docker run --rm redirlab sim default
#
# The final image is distroless's static image in its debug variant: no libc
# and no package manager, only busybox's sh at /busybox/sh, which the
# Kubernetes Job needs to turn its completion index into a shard
# (deploy/kubernetes/). The binary needs nothing else.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: no cgo, so nothing of the build image's libc is needed.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags='-s -w' -o /out/redirlab ./cmd/redirlab

FROM gcr.io/distroless/static-debian12:debug-nonroot
COPY --from=build /out/redirlab /usr/local/bin/redirlab
# distroless's nonroot user and group.
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/redirlab"]
