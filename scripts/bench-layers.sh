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

# time_cmd LABEL CMD...: runs CMD under /usr/bin/time $REPEAT times; prints and records the
# best wall time, that run's CPU time, and the largest max RSS seen.
# The best of several runs is the robust figure on a shared, loaded machine.
REPEAT=${BENCH_REPEAT:-3}
time_cmd() {
    local label=$1; shift
    local best="" best_cpu="" best_rss=0
    for _ in $(seq "$REPEAT"); do
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" > "$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
        read -r wall user sys rss < "$WORK/time"
        if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then
            best=$wall; best_cpu=$(awk "BEGIN{print $user + $sys}")
        fi
        [ "$rss" -gt "$best_rss" ] && best_rss=$rss
    done
    printf '%-34s wall %6.2fs  cpu %6.2fs  maxrss %6d KiB  (best of %d)\n' "$label" "$best" "$best_cpu" "$best_rss" "$REPEAT"
    LAST_WALL=$best
    LAST_RSS=$best_rss
}

ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

echo "== fixture: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1), $(find "$ROOTFS" | wc -l) entries), load: $(cut -d' ' -f1-3 /proc/loadavg)"
tar -C "$ROOTFS" -cf - . > /dev/null   # warm the page cache

# compare NAME REF_LABEL REF_CMD OURS_LABEL OURS_CMD...: runs the two alternately $REPEAT
# times and prints each side's best wall and CPU time, then the ratios. CPU time is the robust
# figure when other jobs share the cores; wall time is what a user waits.
compare() {
    local name=$1 ref_label=$2 ref_cmd=$3 ours_label=$4; shift 4
    local rw="" rc="" ow="" oc="" orss=0
    for _ in $(seq "$REPEAT"); do
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" sh -c "$ref_cmd" > /dev/null 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
        read -r wall user sys rss < "$WORK/time"
        if [ -z "$rw" ] || awk "BEGIN{exit !($wall < $rw)}"; then rw=$wall; fi
        cpu=$(awk "BEGIN{print $user + $sys}")
        if [ -z "$rc" ] || awk "BEGIN{exit !($cpu < $rc)}"; then rc=$cpu; fi
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" > "$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
        read -r wall user sys rss < "$WORK/time"
        if [ -z "$ow" ] || awk "BEGIN{exit !($wall < $ow)}"; then ow=$wall; fi
        cpu=$(awk "BEGIN{print $user + $sys}")
        if [ -z "$oc" ] || awk "BEGIN{exit !($cpu < $oc)}"; then oc=$cpu; fi
        [ "$rss" -gt "$orss" ] && orss=$rss
        rm -f "$WORK"/.layer-*
    done
    printf '%-34s wall %6.2fs  cpu %6.2fs  (best of %d)\n' "$ref_label" "$rw" "$rc" "$REPEAT"
    printf '%-34s wall %6.2fs  cpu %6.2fs  (best of %d)  maxrss %d KiB\n' "$ours_label" "$ow" "$oc" "$REPEAT" "$orss"
    echo "   $(sed 's/ file=.*//; s/ seconds=.*//' "$WORK/out")"
    echo "   $name ratio slipway/pipeline: wall $(ratio "$ow" "$rw"), cpu $(ratio "$oc" "$rc")"
}

echo "== zstd (goal: wall ratio <= 1.5)"
compare zstd "tar | zstd -3 | sha256sum" "tar -C '$ROOTFS' -cf - . | zstd -q -3 -c | sha256sum" \
    "slipway layer write (zstd 3)" "$BENCH" write "$ROOTFS" "$WORK" zstd
echo "== gzip (goal: wall ratio < 1.0)"
compare gzip "tar | gzip -6 | sha256sum" "tar -C '$ROOTFS' -cf - . | gzip -6 -c | sha256sum" \
    "slipway layer write (gzip 6)" "$BENCH" write "$ROOTFS" "$WORK" gzip
echo "   (compressed sizes: pipeline gzip -6 $(tar -C "$ROOTFS" -cf - . | gzip -6 -c | wc -c) bytes, zstd -3 $(tar -C "$ROOTFS" -cf - . | zstd -q -3 -c | wc -c) bytes)"

echo "== 1 GiB layer: peak memory"
REPEAT=1
BIG=$WORK/big
mkdir -p "$BIG/random" "$BIG/text"
for i in 1 2; do head -c 256M /dev/urandom > "$BIG/random/blob$i"; done
for i in 1 2; do (yes "slipway layer benchmark line $i: the quick brown fox jumps over the lazy dog" || true) | head -c 256M > "$BIG/text/file$i"; done
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
