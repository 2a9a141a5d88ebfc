#!/usr/bin/env bash
# The main job, end to end: build Slipway, make a base image (no Docker Hub here), build a
# multi-stage Dockerfile into the local store, run the result, and measure it.
#
#   scripts/demo.sh            busybox base (seconds)
#   scripts/demo.sh go         the article's Go example on a Debian+Go base (a minute or two)
#
# Uses a throwaway store under ${DEMO_ROOT:-/tmp/slipway-demo}.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
scripts/setup.sh
swift build -c release >/dev/null
slipway=$PWD/.build/release/slipway
export SLIPWAY_ROOT=${DEMO_ROOT:-/tmp/slipway-demo}/store
ctx=${DEMO_ROOT:-/tmp/slipway-demo}/context
rm -rf "$ctx"; mkdir -p "$ctx"

if [ "${1:-}" = go ]; then
  base=$(scripts/fixtures.sh debian-go)
  "$slipway" import "$base/rootfs.tar" golang:1.22-bookworm >/dev/null
  mkdir -p "$ctx/cmd/server"
  printf 'module example.com/app\n\ngo 1.19\n' > "$ctx/go.mod"; : > "$ctx/go.sum"
  cat > "$ctx/cmd/server/main.go" <<'GO'
package main

import (
	"fmt"
	"net/http"
)

func main() {
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	_ = http.ListenAndServe(":8080", nil)
}
GO
  cat > "$ctx/Dockerfile" <<'DF'
FROM golang:1.22-bookworm AS builder
WORKDIR /app
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -ldflags='-w -s' -o /app/server ./cmd/server
FROM scratch
COPY --from=builder /app/server /server
EXPOSE 8080
ENTRYPOINT ["/server"]
DF
  "$slipway" build --progress plain -t demo:go "$ctx"
  "$slipway" history demo:go
  "$slipway" analyze demo:go
  exit 0
fi

base=$(scripts/fixtures.sh busybox)
"$slipway" import "$base/rootfs.tar" busybox:demo >/dev/null
cat > "$ctx/Dockerfile" <<'DF'
FROM busybox:demo AS builder
WORKDIR /src
COPY greeting.txt .
RUN tr a-z A-Z < greeting.txt > /src/out.txt && dd if=/dev/zero of=/src/junk bs=1M count=4 2>/dev/null

FROM busybox:demo AS production
COPY --from=builder /src/out.txt /srv/out.txt
USER nobody
CMD ["cat", "/srv/out.txt"]
DF
echo "hello from a multi-stage build" > "$ctx/greeting.txt"
"$slipway" lint -f "$ctx/Dockerfile" || true
"$slipway" outline -f "$ctx/Dockerfile"
"$slipway" build --progress plain -t demo:prod --target production "$ctx"
"$slipway" build --progress plain -t demo:prod --target production "$ctx"   # cached
"$slipway" run --rm demo:prod
"$slipway" images
"$slipway" history demo:prod
"$slipway" analyze demo:prod
