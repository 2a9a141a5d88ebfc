#!/usr/bin/env bash
# Layer archive benchmark (not a test): Slipway's one-pass layer writer against the shell
# pipelines it replaces, on a Debian minbase rootfs, plus peak memory (max RSS) writing,
# reading and applying a 1 GiB layer. Needs root (mmdebstrap, device nodes in the rootfs).
#
#   scripts/bench-layers.sh            # builds slipway-bench in release mode first
#   BENCH_SKIP_BUILD=1 scripts/bench-layers.sh
#
# Goals from issue 3: zstd write within 1.5x of `tar | zstd -3 | sha256sum`; gzip write faster
# than `tar | gzip -6 | sha256sum`; peak RSS < 64 MiB for a 1 GiB layer.
set -euo pipefail

cd "$(dirname "$0")/.."
FIXTURES=/var/cache/slipway-fixtures
ROOTFS=$FIXTURES/debian-minbase/rootfs
WORK=$(mktemp -d /var/tmp/slipway-bench-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ ! -d "$ROOTFS" ]; then
    echo "== building the Debian minbase fixture (cached in $FIXTURES)"
    mkdir -p "$FIXTURES/debian-minbase"
    flock "$FIXTURES/.debian-minbase.lock" sh -c "test -d '$ROOTFS' || { mmdebstrap --variant=minbase bookworm '$ROOTFS.tmp' && mv '$ROOTFS.tmp' '$ROOTFS'; }"
fi

if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    echo "== swift build -c release --product slipway-bench"
    swift build -c release --product slipway-bench 2>&1 | tail -1
fi
BENCH=$(swift build -c release --show-bin-path)/slipway-bench
[ -x "$BENCH" ] || { echo "missing $BENCH"; exit 1; }

# time_cmd LABEL CMD...: runs CMD under /usr/bin/time; prints and records wall, cpu and max RSS.
time_cmd() {
    local label=$1; shift
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" > "$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
    read -r wall user sys rss < "$WORK/time"
    printf '%-34s wall %6.2fs  cpu %6.2fs  maxrss %6d KiB\n' "$label" "$wall" "$(awk "BEGIN{print $user + $sys}")" "$rss"
    LAST_WALL=$wall
    LAST_RSS=$rss
}

ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

echo "== fixture: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1), $(find "$ROOTFS" | wc -l) entries), load: $(cut -d' ' -f1-3 /proc/loadavg)"
tar -C "$ROOTFS" -cf - . > /dev/null   # warm the page cache

echo "== zstd"
time_cmd "tar | zstd -3 | sha256sum" sh -c "tar -C '$ROOTFS' -cf - . | zstd -q -3 -c | sha256sum"
ref_zstd=$LAST_WALL
time_cmd "slipway layer write (zstd 3)" "$BENCH" write "$ROOTFS" "$WORK" zstd
ours_zstd=$LAST_WALL
zstd_line=$(cat "$WORK/out")
echo "   $zstd_line" | sed 's/ file=.*//'
echo "   time ratio slipway/pipeline: $(ratio "$ours_zstd" "$ref_zstd")  (goal <= 1.5)"

echo "== gzip"
time_cmd "tar | gzip -6 | sha256sum" sh -c "tar -C '$ROOTFS' -cf - . | gzip -6 -c | sha256sum"
ref_gzip=$LAST_WALL
time_cmd "slipway layer write (gzip 6)" "$BENCH" write "$ROOTFS" "$WORK" gzip
ours_gzip=$LAST_WALL
gzip_line=$(cat "$WORK/out")
echo "   $gzip_line" | sed 's/ file=.*//'
echo "   time ratio slipway/pipeline: $(ratio "$ours_gzip" "$ref_gzip")  (goal < 1.0)"
rm -f "$WORK"/.layer-*

echo "== 1 GiB layer: peak memory"
BIG=$WORK/big
mkdir -p "$BIG/random" "$BIG/text"
for i in 1 2; do head -c 256M /dev/urandom > "$BIG/random/blob$i"; done
for i in 1 2; do yes "slipway layer benchmark line $i: the quick brown fox jumps over the lazy dog" | head -c 256M > "$BIG/text/file$i"; done
cp -a "$ROOTFS/usr/share" "$BIG/share"   # many small files too
time_cmd "write 1 GiB layer (zstd)" "$BENCH" write "$BIG" "$WORK" zstd
write_rss=$LAST_RSS
blob=$(sed 's/.* file=//' "$WORK/out")
echo "   $(sed 's/ file=.*//' "$WORK/out")"
time_cmd "read 1 GiB layer (zstd)" "$BENCH" read "$blob"
read_rss=$LAST_RSS
echo "   $(cat "$WORK/out")"
rm -rf "$BIG"
mkdir -p "$WORK/applied"
time_cmd "apply 1 GiB layer (zstd)" "$BENCH" apply "$blob" "$WORK/applied"
apply_rss=$LAST_RSS
rm -rf "$WORK/applied"
echo "   peak RSS write/read/apply: $((write_rss / 1024)) / $((read_rss / 1024)) / $((apply_rss / 1024)) MiB  (goal < 64 MiB)"
