#!/usr/bin/env bash
# Build-context hashing benchmark (not a test): how long the COPY source digest takes for a
# generated context (default 20000 files in 400 directories, ~160 MB), cold (every file read and
# hashed) and warm (same process, per-build memo), against `find | sha256sum` over the same files.
#
#   scripts/bench-context.sh [FILES]        # release build of slipway first
#   BENCH_DEBUG=1 scripts/bench-context.sh  # use the debug build (no release compile)
set -euo pipefail
cd "$(dirname "$0")/.."
FILES=${1:-20000}
WORK=$(mktemp -d /var/tmp/slipway-bench-context-XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ -n "${BENCH_DEBUG:-}" ]; then
    swift build --product slipway 2>&1 | tail -1
    BIN=$(swift build --show-bin-path)/slipway
else
    swift build -c release --product slipway 2>&1 | tail -1
    BIN=$(swift build -c release --show-bin-path)/slipway
fi

echo "== generating $FILES files under $WORK/ctx"
python3 - "$WORK/ctx" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "src", "d%03d" % (i % 400))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d.txt" % i), "wb") as f:
        f.write(os.urandom(1024 * (1 + i % 15)))
os.makedirs(os.path.join(root, "node_modules", "big"), exist_ok=True)
with open(os.path.join(root, "node_modules", "big", "blob"), "wb") as f:
    f.write(os.urandom(64 << 20))
with open(os.path.join(root, ".dockerignore"), "w") as f:
    f.write("node_modules\n")
PY
du -sh "$WORK/ctx/src" | sed 's/^/context size (hashed part): /'
sync

sleep 3  # files younger than 2 s are never saved in the memo (racy entries)
echo "== slipway debug context (3 passes in one process: cold, then in-process memo)"
"$BIN" debug context --repeat 3 --memo "$WORK/memo" "$WORK/ctx" .
echo "== a new process with the saved memo (what a no-change rebuild pays)"
"$BIN" debug context --repeat 1 --memo "$WORK/memo" "$WORK/ctx" .
echo "== reference: find src -type f | xargs sha256sum (same files, coreutils)"
/usr/bin/time -f "sha256sum: %e s wall" sh -c "cd '$WORK/ctx' && find src -type f -print0 | xargs -0 sha256sum > /dev/null"
