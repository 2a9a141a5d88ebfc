#!/bin/sh
# Time to parse + type + resolve a generated 60-stage, 600-instruction Dockerfile (release build).
set -eu
cd "$(dirname "$0")/.."
swift build -c release --product parser-bench >/dev/null
exec .build/release/parser-bench "${1:-200}"
