#!/usr/bin/env bash
# Cost of one container run through Slipway's executor (overlay mount + bundle + runtime + cleanup),
# runc vs crun, measured with `slipway run --rootfs` over the busybox fixture (includes the CLI's
# own start-up). Prints wall and CPU per run. Usage: scripts/bench-runtime.sh [RUNS] (default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
bin=${SLIPWAY_BIN:-.build/debug/slipway}
[ -x "$bin" ] || { echo "build first: swift build" >&2; exit 1; }
rootfs="$(scripts/fixtures.sh busybox)/rootfs"
for rt in runc crun; do
  command -v "$rt" >/dev/null || { echo "$rt: not installed"; continue; }
  "$bin" run --runtime "$rt" --rootfs "$rootfs" /bin/true   # warm-up
  start=$(date +%s%N)
  read -r cu0 cs0 < <(awk '{print $16, $17}' /proc/$$/stat)
  for _ in $(seq "$runs"); do "$bin" run --runtime "$rt" --rootfs "$rootfs" /bin/true; done
  end=$(date +%s%N)
  read -r cu cs < <(awk '{print $16, $17}' /proc/$$/stat)
  ticks=$(getconf CLK_TCK)
  awk -v rt="$rt" -v n="$runs" -v ns=$((end - start)) -v c=$((cu + cs - cu0 - cs0)) -v t="$ticks" \
    'BEGIN { printf "%s: %.1f ms wall per run, %.1f ms CPU (children) per run over %d runs\n", rt, ns / n / 1e6, c / t * 1000 / n, n }'
done
