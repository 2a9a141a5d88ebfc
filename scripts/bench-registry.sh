#!/usr/bin/env bash
# Push and pull of a ~200 MB, 4-layer image against a local docker-registry on 127.0.0.1:
# slipway vs `skopeo copy` of the same image. Every push goes to a fresh registry (so nothing is
# skipped or mounted) and every pull into an empty store / directory. Prints each run, the
# medians and slipway/skopeo ratios (below 1.00 = slipway faster).
#
#   scripts/bench-registry.sh            # uses .build/release/slipway (builds it if missing)
#   SLIPWAY=.build/debug/slipway RUNS=3 LAYER_MB=50 scripts/bench-registry.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
RUNS=${RUNS:-3}
LAYER_MB=${LAYER_MB:-50}
LAYERS=${LAYERS:-4}
SLIPWAY=${SLIPWAY:-.build/release/slipway}
if [ ! -x "$SLIPWAY" ]; then swift build -c release --product slipway >/dev/null; fi
for tool in docker-registry skopeo umoci python3; do command -v $tool >/dev/null || { echo "bench: $tool missing (scripts/setup.sh)"; exit 1; }; done

W=$(mktemp -d /tmp/slipway-bench-registry.XXXXXX)
REG_PID=""
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() {  # fresh storage each time
  [ -n "$REG_PID" ] && { kill "$REG_PID" 2>/dev/null; wait "$REG_PID" 2>/dev/null || true; }
  PORT=$(free_port); rm -rf "$W/reg"; mkdir -p "$W/reg"
  cat > "$W/reg/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/reg/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$PORT}
YAML
  docker-registry serve "$W/reg/config.yml" > "$W/reg/log" 2>&1 & REG_PID=$!
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && return; sleep 0.05; done
  echo "bench: registry did not start"; cat "$W/reg/log"; exit 1
}
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "$@"; }

echo "== building a ${LAYERS}x${LAYER_MB} MB image (random data, gzip layers) with umoci"
umoci init --layout "$W/oci" >/dev/null
umoci new --image "$W/oci:img" >/dev/null
for i in $(seq "$LAYERS"); do
  # A fresh unpack per layer: repacking one bundle twice re-adds earlier files.
  rm -rf "$W/bundle"; umoci unpack --image "$W/oci:img" "$W/bundle" >/dev/null
  head -c $((LAYER_MB * 1024 * 1024)) /dev/urandom > "$W/bundle/rootfs/layer$i.bin"
  umoci repack --image "$W/oci:img" "$W/bundle" >/dev/null
done
skopeo --insecure-policy copy -q "oci:$W/oci:img" "oci-archive:$W/img.tar:img" >/dev/null
"$SLIPWAY" load --root "$W/storeA" -i "$W/img.tar" -t bench/img:1 >/dev/null
echo "image: $(du -sh "$W/oci/blobs" | cut -f1) in $(ls "$W/oci/blobs/sha256" | wc -l) blobs"

declare -a SP SK SL KL
for r in $(seq "$RUNS"); do
  start_registry
  t0=$(now); "$SLIPWAY" push -q --root "$W/storeA" bench/img:1 "127.0.0.1:$PORT/bench/img:1" >/dev/null; t1=$(now)
  SP+=("$(elapsed "$t0" "$t1")")
  start_registry
  t0=$(now); skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$W/oci:img" "docker://127.0.0.1:$PORT/bench/img:1" >/dev/null; t1=$(now)
  SK+=("$(elapsed "$t0" "$t1")")
  # Pull the same pushed image both ways, into empty destinations.
  rm -rf "$W/storeB" "$W/pulled"
  t0=$(now); "$SLIPWAY" pull -q --root "$W/storeB" "127.0.0.1:$PORT/bench/img:1" >/dev/null; t1=$(now)
  SL+=("$(elapsed "$t0" "$t1")")
  t0=$(now); skopeo --insecure-policy copy -q --src-tls-verify=false "docker://127.0.0.1:$PORT/bench/img:1" "oci:$W/pulled:img" >/dev/null; t1=$(now)
  KL+=("$(elapsed "$t0" "$t1")")
  echo "run $r: push slipway ${SP[-1]}s skopeo ${SK[-1]}s | pull slipway ${SL[-1]}s skopeo ${KL[-1]}s"
done
mp=$(median "${SP[@]}"); mk=$(median "${SK[@]}"); ml=$(median "${SL[@]}"); mkl=$(median "${KL[@]}")
echo "median push: slipway ${mp}s  skopeo ${mk}s  ratio $(python3 -c "print(f'{$mp/$mk:.2f}')")"
echo "median pull: slipway ${ml}s  skopeo ${mkl}s  ratio $(python3 -c "print(f'{$ml/$mkl:.2f}')")"
echo "(slipway binary: $SLIPWAY; pulls into an empty store include verifying every digest)"
