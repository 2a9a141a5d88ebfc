#!/usr/bin/env bash
# Builds Slipway and runs all tests (unit and integration). Integration tests drive .build/debug/slipway.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build
swift test "$@"
