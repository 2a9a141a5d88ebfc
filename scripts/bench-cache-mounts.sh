#!/usr/bin/env bash
# Cache-mount benchmark: the article's Go cache-mount Dockerfile, rebuilt after a one-line source
# change, with and without `--mount=type=cache` for the Go build cache.
#
# Prints the wall time of the cold build and of the rebuild after the edit, for both variants,
# and the speed-up the cache mount gives the rebuild.
#
#   scripts/bench-cache-mounts.sh            (needs root; debug binary by default)
#   SLIPWAY_BIN=path  use that binary (default: .build/debug/slipway)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench-cache-mounts: needs root (overlayfs, runc)" >&2; exit 1; }
BIN=$(readlink -f "${SLIPWAY_BIN:-.build/debug/slipway}")
[ -x "$BIN" ] || { echo "bench-cache-mounts: $BIN not built (swift build)" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/slipway-bench-cache.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
GO_FIXTURE=$(bash scripts/fixtures.sh debian-go)
STORE=$WORK/store
"$BIN" import --root "$STORE" "$GO_FIXTURE/rootfs.tar" golang:1.22 >/dev/null
# Warm-up: unpack the base layer once so neither variant pays for it.
mkdir -p "$WORK/warm" && printf 'FROM golang:1.22\nRUN true\n' > "$WORK/warm/Dockerfile"
"$BIN" build --root "$STORE" --progress quiet "$WORK/warm" >/dev/null

mkctx() {  # $1 dir, $2 "cache" or "plain"
  mkdir -p "$1/cmd/server"
  local mounts=""
  [ "$2" = cache ] && mounts="--mount=type=cache,target=/root/.cache/go-build"
  cat > "$1/Dockerfile" <<DOCKERFILE
FROM golang:1.22 AS builder
ENV GOTOOLCHAIN=local
WORKDIR /app
COPY go.mod ./
COPY . .
RUN $mounts CGO_ENABLED=0 go build -o /app/server ./cmd/server
FROM scratch
COPY --from=builder /app/server /server
CMD ["/server"]
DOCKERFILE
  printf 'module example.com/server\n\ngo 1.19\n' > "$1/go.mod"
  printf 'package main\n\nimport (\n\t"fmt"\n\t"net/http"\n)\n\nfunc main() { fmt.Println("v1"); _ = http.ListenAndServe }\n' > "$1/cmd/server/main.go"
}

now() { date +%s.%N; }
for variant in plain cache; do
  ctx=$WORK/$variant
  mkctx "$ctx" "$variant"
  t0=$(now); "$BIN" build --root "$STORE" --progress quiet "$ctx" >/dev/null; t1=$(now)
  sed -i 's/"v1"/"v2"/' "$ctx/cmd/server/main.go"
  t2=$(now); "$BIN" build --root "$STORE" --progress quiet "$ctx" >/dev/null; t3=$(now)
  cold=$(echo "$t1 - $t0" | bc); edit=$(echo "$t3 - $t2" | bc)
  printf '%-6s cold build %6.1f s   rebuild after a source edit %6.1f s\n' "$variant" "$cold" "$edit"
  eval "edit_$variant=$edit"
done
printf 'cache mount speed-up of the rebuild: %.1fx\n' "$(echo "$edit_plain / $edit_cache" | bc -l)"
