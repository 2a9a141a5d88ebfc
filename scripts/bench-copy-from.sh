#!/usr/bin/env bash
# COPY --from cache benchmark on busybox (no Debian fixture needed): a builder stage writes
# /out/app from the first line of src.txt, the final stage copies it (plain, --link, and a
# bind mount from=). Prints, for each binary given, the median and min wall time of
#   - a no-change rebuild (the --from digest comes from the store's memo, nothing is mounted)
#   - a rebuild after an edit the builder drops (its RUN re-runs; the copies are cache hits
#     with content keys, re-runs with identity keys)
#
#   scripts/bench-copy-from.sh [RUNS] [BINARY...]   (default 10 runs, .build/release/slipway
#                                                    or else .build/debug/slipway; needs root)
# Binaries are measured in turns (A B A B ...), each with its own store, so load drifts hit all.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
shift || true
[ "$(id -u)" = 0 ] || { echo "bench-copy-from: needs root (overlayfs, runc)" >&2; exit 1; }
BINS=("$@")
if [ ${#BINS[@]} -eq 0 ]; then
  if [ -x .build/release/slipway ]; then BINS=(.build/release/slipway); else BINS=(.build/debug/slipway); fi
fi

WORK=/var/tmp/slipway-bench-copy-from
rm -rf "$WORK"; mkdir -p "$WORK/ctx"
BUSYBOX=$(bash scripts/fixtures.sh busybox)
cat > "$WORK/ctx/Dockerfile" <<'EOF'
FROM busybox:latest AS builder
COPY src.txt /src.txt
RUN mkdir /out && head -n 1 /src.txt > /out/app
FROM busybox:latest
COPY --from=builder /out/app /app
COPY --link --from=builder /out/ /linked/
RUN --mount=type=bind,from=builder,source=/out,target=/b cat /b/app > /via-mount
EOF
printf 'payload\n# edit 0\n' > "$WORK/ctx/src.txt"

now() { date +%s.%N; }
stats() { sort -n | awk '{ a[NR] = $1 } END { printf "median %.0f ms, min %.0f ms", a[int((NR + 1) / 2)] * 1000, a[1] * 1000 }'; }

for i in "${!BINS[@]}"; do
  BIN=$(readlink -f "${BINS[$i]}")
  "$BIN" import "$BUSYBOX/rootfs.tar" busybox:latest --root "$WORK/store$i" >/dev/null
  "$BIN" build --progress quiet --root "$WORK/store$i" "$WORK/ctx" >/dev/null
done

# Each round: one edit the builder drops, built by every binary; then a no-change rebuild each.
timed() { local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now); awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'; }
for r in $(seq "$RUNS"); do
  printf 'payload\n# edit %d\n' "$r" > "$WORK/ctx/src.txt"
  for i in "${!BINS[@]}"; do
    timed "$(readlink -f "${BINS[$i]}")" build --progress quiet --root "$WORK/store$i" "$WORK/ctx" >> "$WORK/edit$i"
  done
  for i in "${!BINS[@]}"; do
    timed "$(readlink -f "${BINS[$i]}")" build --progress quiet --root "$WORK/store$i" "$WORK/ctx" >> "$WORK/nochange$i"
  done
done

for i in "${!BINS[@]}"; do
  echo "${BINS[$i]}: no-change rebuild $(stats < "$WORK/nochange$i"); builder-only edit $(stats < "$WORK/edit$i") ($RUNS runs; load $(cut -d' ' -f1 /proc/loadavg))"
done
rm -rf "$WORK"
