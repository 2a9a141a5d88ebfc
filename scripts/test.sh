#!/usr/bin/env bash
# Builds Slipway and runs all tests (unit and integration). Integration tests drive .build/debug/slipway.
#
# A test whose prerequisite is missing (root, runc, a tool, ../shared data) is reported skipped by
# Swift Testing, not passed. With CI set (.ci/run) a skipped test fails the run: the output of
# `swift test` is kept in $SLIPWAY_TEST_LOG (default .build/swift-test.log) while it is printed,
# and when it has Swift Testing skip lines
#   ➜ Test NAME skipped: "REASON"     ➜ Test NAME skipped.     ➜ Suite NAME skipped: "REASON"
# they are listed and the script exits 1 (swift test's own non-zero status comes first).
# Outside CI skips are allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build

if [ -z "${CI:-}" ]; then
  exec swift test "$@"
fi

log=${SLIPWAY_TEST_LOG:-.build/swift-test.log}
mkdir -p "$(dirname "$log")"
set +e
swift test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# Swift Testing's console lines for a skipped test or suite (ANSI colour codes removed first,
# in case the output was coloured): a symbol, "Test" or "Suite", the name, then "skipped." or
# "skipped: "<reason>"" at the end of the line.
skipped=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^[^[:space:]]+ (Test|Suite) .+ skipped(\.|: ".*")$' || true)

if [ "$status" -ne 0 ]; then
  [ -z "$skipped" ] || printf '\ntest: also skipped:\n%s\n' "$skipped" >&2
  exit "$status"
fi
if [ -n "$skipped" ]; then
  count=$(printf '%s\n' "$skipped" | grep -c '')
  printf '\ntest: FAILED: %s tests or suites skipped in CI (every test must run here; install what is missing: scripts/setup.sh):\n%s\n' \
    "$count" "$skipped" >&2
  exit 1
fi
