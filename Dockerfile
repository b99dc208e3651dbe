# herald's image for those who build with Docker. `make release` builds the same image without a
# Docker engine (hack/release/image); both lay out the same files from the same code: the static
# binary at /herald on an empty base, /kube-eventer and /eventer as links to it (so a
# kube-eventer Deployment's command keeps working), CA certificates, the IANA time zones (TZ,
# --timezone), a non-root user 65532 and the licences under /usr/share/doc.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY hack/release/go.mod hack/release/go.sum hack/release/
RUN cd hack/release && go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/herald ./cmd/herald
# The golang image is Debian with ca-certificates installed: its bundle and copyright are used.
RUN cd hack/release && go run ./cmd/image rootfs -out /rootfs -binary "linux/$(go env GOARCH)=/out/herald"

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build --chown=65532:65532 /rootfs/home/nonroot /home/nonroot
USER 65532:65532
EXPOSE 8084
ENTRYPOINT ["/herald"]
