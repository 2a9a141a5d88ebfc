#!/usr/bin/env bash
# Build-engine benchmark: the article's Go example (Debian+Go builder -> FROM scratch).
#
# Prints, for slipway and (when they run here) BuildKit (Debian's docker.io dockerd, started by
# this script with DOCKER_BUILDKIT=1) and buildah:
#   - cold build wall time, and slipway's own overhead (total minus time inside RUN processes)
#   - no-change rebuild wall time (median and min of N runs)
# and the ratios. Goal (issue 4): no-change rebuild < 100 ms and >= 5x faster than BuildKit's.
#
#   scripts/bench-build.sh [RUNS]            (default 10; needs root)
#   SLIPWAY_BIN=path  use that binary (default: .build/release/slipway, built if missing)
#   BENCH_SKIP_DOCKER=1 / BENCH_SKIP_BUILDAH=1 to leave a comparison out
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
export PATH=/opt/swift/usr/bin:$PATH
[ "$(id -u)" = 0 ] || { echo "bench-build: needs root (overlayfs, runc)" >&2; exit 1; }

BIN=${SLIPWAY_BIN:-.build/release/slipway}
if [ ! -x "$BIN" ]; then
  echo "bench-build: building release binary..." >&2
  swift build -c release --product slipway >&2
fi
BIN=$(readlink -f "$BIN")

WORK=/var/tmp/slipway-bench-build
STORE=$WORK/store
# A previous buildah run may have left its overlay mounts behind.
awk -v w="$WORK/buildah" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l
rm -rf "$WORK/ctx" "$WORK/buildah"; mkdir -p "$WORK/ctx/cmd/server"
GO_FIXTURE=$(bash scripts/fixtures.sh debian-go)

cat > "$WORK/ctx/Dockerfile" <<'EOF'
# ---- Build Stage ----
FROM golang:1.22-bookworm AS builder
WORKDIR /app
# Cache dependencies
COPY go.mod go.sum ./
RUN go mod download
# Build static binary
COPY . .
RUN CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
go build -ldflags='-w -s -extldflags "-static"' \
-o /app/server ./cmd/server
# ---- Production Stage ----
FROM scratch
# Copy CA certificates for HTTPS
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
# Copy the static binary
COPY --from=builder /app/server /server
EXPOSE 8080
ENTRYPOINT ["/server"]
EOF
printf 'module example.com/server\n\ngo 1.19\n' > "$WORK/ctx/go.mod"
: > "$WORK/ctx/go.sum"
cat > "$WORK/ctx/cmd/server/main.go" <<'EOF'
package main

import (
	"fmt"
	"net/http"
)

func main() {
	http.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	http.ListenAndServe(":8080", nil)
}
EOF

# Timestamps are read from bash's own clock, ${EPOCHREALTIME/,/.} (a parameter expansion: no
# `date` process and no command-substitution fork per reading), so neither side pays extra forks.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }
stats() { sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.4f %.4f\n", m, v[1] }'; }

# ---- slipway ----
if ! "$BIN" images --root "$STORE" 2>/dev/null | grep -q golang; then
  echo "bench-build: importing the Debian+Go base (once)..." >&2
  "$BIN" import --root "$STORE" "$GO_FIXTURE/rootfs.tar" golang:1.22-bookworm >&2
fi
"$BIN" prune -f --root "$STORE" --cache >/dev/null 2>&1 || true
t0=${EPOCHREALTIME/,/.}
"$BIN" build --root "$STORE" --no-cache --progress json -t bench/go:prod "$WORK/ctx" >"$WORK/cold.out" 2>"$WORK/cold.json"
t1=${EPOCHREALTIME/,/.}
sw_cold=$(elapsed "$t0" "$t1")
# Time inside RUN processes: started -> finished of every RUN step.
sw_run=$(python3 - "$WORK/cold.json" <<'EOF'
import json, sys
start, total = {}, 0.0
for line in open(sys.argv[1]):
    try: e = json.loads(line)
    except ValueError: continue
    if e.get("event") == "started" and "RUN " in e.get("name", ""): start[e["step"]] = e["time"]
    if e.get("event") == "finished" and e.get("step") in start: total += e["time"] - start[e["step"]]
print(f"{total:.3f}")
EOF
)
sw_overhead=$(awk -v a="$sw_cold" -v b="$sw_run" 'BEGIN { printf "%.3f", a - b }')
for i in $(seq "$RUNS"); do
  a=${EPOCHREALTIME/,/.}
  "$BIN" build --root "$STORE" --progress quiet -t bench/go:prod "$WORK/ctx" >/dev/null
  b=${EPOCHREALTIME/,/.}
  elapsed "$a" "$b"; echo
done | stats > "$WORK/sw.stats"
read -r sw_med sw_min < "$WORK/sw.stats"
# CPU time (user + system) of the same rebuild, from wait4's rusage (microseconds, unlike time(1)).
sw_cpu=$(python3 - "$RUNS" "$BIN" build --root "$STORE" --progress quiet -t bench/go:prod "$WORK/ctx" <<'EOF'
import os, subprocess, sys
cpu = []
for _ in range(int(sys.argv[1])):
    p = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    cpu.append(ru.ru_utime + ru.ru_stime)
cpu.sort()
print(f"{cpu[len(cpu) // 2]:.4f} {cpu[0]:.4f}")
EOF
)
echo "slipway:  cold build ${sw_cold}s (RUN processes ${sw_run}s, builder overhead ${sw_overhead}s); no-change rebuild median ${sw_med}s min ${sw_min}s, CPU median/min ${sw_cpu} s ($RUNS runs; load average $(cut -d' ' -f1 /proc/loadavg))"

# ---- BuildKit (dockerd from Debian's docker.io) ----
bk_med=""
if [ -z "${BENCH_SKIP_DOCKER:-}" ]; then
  if [ ! -x /usr/sbin/dockerd ]; then
    echo "bench-build: installing docker.io for the comparison..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io >/dev/null 2>&1 || true
  fi
  if [ -x /usr/sbin/dockerd ] && [ -x /usr/bin/docker ]; then
    D=$WORK/docker; mkdir -p "$D"
    SOCK=unix://$D/docker.sock
    /usr/sbin/dockerd --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/pid" -H "$SOCK" \
      --bridge=none --iptables=false --ip-masq=false >"$D/log" 2>&1 &
    DPID=$!
    trap 'kill $DPID 2>/dev/null; wait $DPID 2>/dev/null || true' EXIT
    DOCKER="/usr/bin/docker -H $SOCK"
    for _ in $(seq 60); do $DOCKER info >/dev/null 2>&1 && break; sleep 0.5; done
    if $DOCKER info >/dev/null 2>&1; then
      $DOCKER image inspect golang:1.22-bookworm >/dev/null 2>&1 || $DOCKER import "$GO_FIXTURE/rootfs.tar" golang:1.22-bookworm >/dev/null
      a=${EPOCHREALTIME/,/.}; DOCKER_BUILDKIT=1 $DOCKER build --network host --no-cache -q -t bench/go:prod "$WORK/ctx" >/dev/null; b=${EPOCHREALTIME/,/.}
      bk_cold=$(elapsed "$a" "$b")
      for i in $(seq "$RUNS"); do
        a=${EPOCHREALTIME/,/.}; DOCKER_BUILDKIT=1 $DOCKER build --network host -q -t bench/go:prod "$WORK/ctx" >/dev/null; b=${EPOCHREALTIME/,/.}
        elapsed "$a" "$b"; echo
      done | stats > "$WORK/bk.stats"
      read -r bk_med bk_min < "$WORK/bk.stats"
      echo "buildkit: cold build ${bk_cold}s; no-change rebuild median ${bk_med}s min ${bk_min}s"
    else
      echo "buildkit: dockerd did not start (see $D/log)"
    fi
    kill $DPID 2>/dev/null; wait $DPID 2>/dev/null || true
    trap - EXIT
  else
    echo "buildkit: docker.io not installable here; skipped"
  fi
fi

# ---- buildah ----
ba_med=""
if [ -z "${BENCH_SKIP_BUILDAH:-}" ]; then
  if ! command -v buildah >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q buildah >/dev/null 2>&1 || true
  fi
  if command -v buildah >/dev/null; then
    # runc: crun fails on this host's hybrid cgroups (see docs/notes).
    B="buildah --root $WORK/buildah/root --runroot $WORK/buildah/run --storage-driver overlay"
    bench_buildah() {
      "$BIN" build --root "$STORE" --progress quiet --output "type=oci,dest=$WORK/base.tar" -f - "$WORK/ctx" <<<'FROM golang:1.22-bookworm' >/dev/null
      $B pull -q "oci-archive:$WORK/base.tar" >/dev/null
      $B tag "$($B images -q | head -1)" golang:1.22-bookworm
      local a b
      a=${EPOCHREALTIME/,/.}; $B bud --runtime /usr/sbin/runc --layers --network host -q -t bench/go:prod "$WORK/ctx" >/dev/null; b=${EPOCHREALTIME/,/.}
      ba_cold=$(elapsed "$a" "$b")
      for i in $(seq "$RUNS"); do
        a=${EPOCHREALTIME/,/.}; $B bud --runtime /usr/sbin/runc --layers --network host -q -t bench/go:prod "$WORK/ctx" >/dev/null; b=${EPOCHREALTIME/,/.}
        elapsed "$a" "$b"; echo
      done | stats > "$WORK/ba.stats"
      read -r ba_med ba_min < "$WORK/ba.stats"
    }
    if bench_buildah 2>"$WORK/buildah.err"; then
      $B rm --all >/dev/null 2>&1 || true
      echo "buildah:  cold build ${ba_cold}s; no-change rebuild median ${ba_med}s min ${ba_min}s"
    else
      ba_med=""
      echo "buildah: failed here ($(tail -1 "$WORK/buildah.err"))"
    fi
  else
    echo "buildah: not installable here; skipped"
  fi
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }'; }
if [ -n "$bk_med" ]; then
  echo "no-change rebuild vs BuildKit: $(ratio "$bk_med" "$sw_med") (median), $(ratio "$bk_min" "$sw_min") (min)"
  echo "cold build vs BuildKit: $(ratio "$bk_cold" "$sw_cold")"
fi
if [ -n "$ba_med" ]; then
  echo "no-change rebuild vs buildah: $(ratio "$ba_med" "$sw_med") (median), $(ratio "$ba_min" "$sw_min") (min)"
fi
awk -v m="$sw_med" 'BEGIN { printf "goal: no-change rebuild under 100 ms: %s (%.0f ms)\n", (m < 0.1 ? "met" : "NOT met"), m * 1000 }'
