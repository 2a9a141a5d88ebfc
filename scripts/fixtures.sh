#!/usr/bin/env bash
# Builds and caches root filesystems that tests use as base images (there is no Docker Hub here).
#
#   scripts/fixtures.sh busybox        -> DIR with rootfs/ (extracted) and rootfs.tar
#   scripts/fixtures.sh busybox-arm64  -> the same over Debian's busybox-static:arm64 (apt-get download;
#                                         needs `dpkg --add-architecture arm64`, done by scripts/setup.sh)
#   scripts/fixtures.sh debian         -> DIR with rootfs.tar (bookworm minbase)
#   scripts/fixtures.sh debian-go      -> + golang-go ca-certificates
#   scripts/fixtures.sh debian-node    -> + nodejs npm build-essential ca-certificates (like
#                                         node:20-bookworm: npm, node-gyp and its python3, gcc, make, headers)
#   scripts/fixtures.sh debian-node-slim -> + nodejs ca-certificates (like node:20-bookworm-slim:
#                                         the runtime only, no npm, no build tools)
#   scripts/fixtures.sh debian-python  -> + python3 python3-pip ca-certificates
#   scripts/fixtures.sh debian-rust    -> + cargo rustc ca-certificates and two crates as Debian packages
#                                         (librust-httparse-dev, librust-itoa-dev), with crates.io replaced
#                                         by /usr/share/cargo/registry in /root/.cargo/config.toml (no
#                                         crates.io here: like rust:1.76-bookworm, but offline)
#   scripts/fixtures.sh debian-java    -> + default-jdk-headless maven, the maven plugins `mvn package` and
#                                         `dependency:` need and commons-lang3, all from Debian's
#                                         /usr/share/maven-repo, which /root/.m2/settings.xml makes maven's
#                                         offline local repository (no Maven Central here)
#   scripts/fixtures.sh debian-jre     -> + default-jre-headless (a JRE only: no javac, no maven)
#
# Prints DIR (one line on stdout). Fixtures live under ${SLIPWAY_FIXTURES:-/var/cache/slipway-fixtures}
# and are built only once: a second call prints the cached path at once. Builds go to a temporary
# directory and are renamed into place, under a lock, so concurrent callers never see half a fixture.
# Timing goes to stderr.
set -euo pipefail

ROOT=${SLIPWAY_FIXTURES:-/var/cache/slipway-fixtures}
name=${1:-}
case "$name" in
  busybox|busybox-arm64) extra="" ;;
  debian) extra="" ;;
  debian-go) extra="golang-go,ca-certificates" ;;
  debian-node) extra="nodejs,npm,build-essential,ca-certificates" ;;
  debian-node-slim) extra="nodejs,ca-certificates" ;;
  debian-python) extra="python3,python3-pip,ca-certificates" ;;
  debian-rust) extra="cargo,rustc,ca-certificates,librust-httparse-dev,librust-itoa-dev" ;;
  debian-java) extra="default-jdk-headless,maven,libmaven-resources-plugin-java,libmaven-compiler-plugin-java,libsurefire-java,libmaven-jar-plugin-java,libmaven-dependency-plugin-java,libcommons-lang3-java" ;;
  debian-jre) extra="default-jre-headless" ;;
  *) echo "usage: $0 busybox|busybox-arm64|debian|debian-go|debian-node|debian-node-slim|debian-python|debian-rust|debian-java|debian-jre" >&2; exit 2 ;;
esac

# The cache is keyed by directory name: a fixture whose package list changed gets a new
# revision suffix so machines with the old one cached build the new one.
case "$name" in
  debian-node) dest="$ROOT/$name.3" ;;
  *) dest="$ROOT/$name" ;;
esac
if [ -f "$dest/rootfs.tar" ]; then echo "$dest"; exit 0; fi

mkdir -p "$ROOT"
exec 9>"$ROOT/.$name.lock"
flock 9
if [ -f "$dest/rootfs.tar" ]; then echo "$dest"; exit 0; fi   # built by a concurrent caller

start=$(date +%s.%N)
tmp=$(mktemp -d "$ROOT/.$name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

build_busybox() {
  local bb
  bb=$(command -v busybox || true)
  [ -n "$bb" ] || { echo "fixtures: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
  local r="$tmp/rootfs"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home/app,var/tmp}
  chmod 1777 "$r/tmp" "$r/var/tmp"; chmod 700 "$r/root"
  if [ "$name" = busybox-arm64 ]; then
    # The arm64 build of the same Debian package; its applet list is the host busybox's (same
    # version), so building the fixture needs no emulation.
    (cd "$tmp" && apt-get download -qq busybox-static:arm64 >/dev/null) ||
      { echo "fixtures: apt-get download busybox-static:arm64 failed (dpkg --add-architecture arm64 && apt-get update)" >&2; exit 1; }
    dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/deb"
    cp "$tmp/deb/bin/busybox" "$r/bin/busybox"
    rm -rf "$tmp/deb" "$tmp"/busybox-static_*_arm64.deb
  else
    cp "$bb" "$r/bin/busybox"
  fi
  # Like `busybox --install -s`: one symlink per applet, all in /bin.
  for a in $("$bb" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
  done
  cat > "$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat > "$r/etc/group" <<'EOF'
root:x:0:
staff:x:50:app
app:x:1000:
nogroup:x:65534:
EOF
  chown 1000:1000 "$r/home/app"
  tar --numeric-owner --xattrs --sort=name -C "$r" -cf "$tmp/rootfs.tar" .
}

build_debian() {
  local args=(--variant=minbase --mode=root --quiet)
  [ -z "$extra" ] || args+=("--include=$extra")
  # Mimic the official debian image: no apt caches or translations in layers.
  for f in docker-clean docker-gzip-indexes docker-no-languages docker-autoremove-suggests; do
    [ -f "/etc/apt/apt.conf.d/$f" ] &&
      args+=("--customize-hook=copy-in /etc/apt/apt.conf.d/$f /etc/apt/apt.conf.d")
  done
  # The node fixtures also drop apt's binary caches, as the official images' docker-clean does
  # (other fixtures keep theirs so tests measured against them stay comparable).
  case "$name" in
    debian-node|debian-node-slim) args+=('--customize-hook=rm -f "$1"/var/cache/apt/*.bin') ;;
  esac
  # Package registries offline: cargo and maven read Debian's packaged crates and jars.
  case "$name" in
    debian-rust) args+=('--customize-hook=mkdir -p "$1"/root/.cargo && printf "%s\n" \
      "[source.crates-io]" "replace-with = \"debian\"" "" "[source.debian]" "directory = \"/usr/share/cargo/registry\"" "" \
      "[net]" "offline = true" > "$1"/root/.cargo/config.toml') ;;
    debian-java) args+=('--customize-hook=mkdir -p "$1"/root/.m2 && printf "%s\n" \
      "<settings>" "  <localRepository>/usr/share/maven-repo</localRepository>" "  <offline>true</offline>" "</settings>" \
      > "$1"/root/.m2/settings.xml') ;;
  esac
  mmdebstrap "${args[@]}" bookworm "$tmp/rootfs.tar" >&2
}

case "$name" in
  busybox|busybox-arm64) build_busybox ;;
  *) build_debian ;;
esac

rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
chmod 755 "$dest"
end=$(date +%s.%N)
awk -v n="$name" -v a="$start" -v b="$end" 'BEGIN { printf "fixtures: built %s in %.1f s\n", n, b - a }' >&2
echo "$dest"
