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
pkgs+=(shellcheck)  # lint and build --check: ShellCheck on RUN scripts (Inspect tests)
pkgs+=(qemu-user-static binfmt-support)  # build --platform linux/arm64: RUN through qemu-aarch64 (binfmt_misc, F flag)
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

# Multi-platform tests: an arm64 busybox base (Debian's busybox-static:arm64, unpacked by
# scripts/fixtures.sh busybox-arm64) and qemu-aarch64 registered in binfmt_misc with the F flag
# (the kernel opens the interpreter at registration, so it runs inside any container's rootfs).
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "setup: adding the arm64 architecture to dpkg (for busybox-static:arm64)"
  dpkg --add-architecture arm64
  apt-get update -qq
fi
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
  mount -t binfmt_misc binfmt_misc "$binfmt" 2>/dev/null ||
    echo "setup: cannot mount binfmt_misc on $binfmt; emulated RUN tests will fail" >&2
fi
# Register only what is missing: an existing entry (whatever its flags) is never changed.
if [ -e "$binfmt/register" ] && [ ! -e "$binfmt/qemu-aarch64" ]; then
  conf=/usr/lib/binfmt.d/qemu-aarch64.conf
  line=$(grep -v '^#' "$conf" | head -n 1)
  flags=${line##*:}
  case "$flags" in *F*) ;; *) line="${line}F" ;; esac
  echo "setup: registering qemu-aarch64 in binfmt_misc (flags ${line##*:})"
  printf '%s\n' "$line" > "$binfmt/register"
fi
