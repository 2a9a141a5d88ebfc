#!/usr/bin/env bash
# Installs the Debian packages Slipway and its tests need. Idempotent and quiet when all is there.
set -euo pipefail
pkgs=(libzstd-dev libssl-dev libsqlite3-dev zlib1g-dev pkgconf runc crun busybox-static
      docker-registry skopeo umoci mmdebstrap apache2-utils
      zstd)
pkgs+=(chromium)  # analyze --html is rendered by headless Chromium in the Inspect tests
pkgs+=(python3 openssl)  # Registry tests: fault-injection proxy and token server (python3), token-signing cert (openssl)
pkgs+=(git xz-utils bzip2)  # ADD from git repositories; ADD of .tar.xz/.tar.bz2 archives (Build Copy tests)
pkgs+=(curl)  # Integration tests: docker-registry readiness probe, the examples' /health checks
pkgs+=(docker.io openssh-client)  # DifferentialTests: dockerd 20.10's BuildKit as the reference builder; ssh-agent for RUN --mount=type=ssh
pkgs+=(libcurl4-openssl-dev)  # <curl/curl.h> for Sources/CCurl (libcurl itself is dlopened at run time from libcurl4)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
