#!/usr/bin/env bash
# A private dockerd (BuildKit) and ssh-agent for the differential tests, and their watchdog.
#
#   dockerd-session.sh DIR OWNER_PID HTTP_PORT HTTP_ROOT
#
# DIR is an empty directory this script owns: data-root, exec-root, the API socket
# (DIR/docker.sock, the only listener: no TCP), pidfile, daemon.json, log. No iptables, no bridge
# (builds use --network=host). An ssh-agent (no keys) listens on DIR/agent.sock for the
# `RUN --mount=type=ssh` cases, and python3's http.server serves HTTP_ROOT on 127.0.0.1:HTTP_PORT
# for the `ADD <url>` cases. The script stays in the foreground as the watchdog: when DIR/stop
# appears (the tests are done) or OWNER_PID is gone (the test process crashed or was killed) it
# stops dockerd (TERM, KILL after 20 s), then anything it left (containerd, BuildKit's runc
# containers, mounts under DIR) and removes DIR. So no daemon outlives the tests.
set -u
# Everything is in main, read whole before it runs: editing this file while a session runs
# (bash reads scripts as it goes) must not break the watchdog.
main() {
local dir=$1 owner=$2 http_port=$3 http_root=$4
trap '' INT HUP   # a Ctrl-C to the test run must not skip the clean-up below

# dockerd writes its libtrust key to /etc/docker/key.json unless told otherwise.
printf '{"deprecated-key-path": "%s/key.json"}\n' "$dir" > "$dir/daemon.json"
mkdir -p "$dir/data" "$dir/x"
# setsid: the daemon is not in the terminal's process group, so it gets no Ctrl-C of its own and
# is stopped only here, in order.
setsid /usr/sbin/dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$dir/x" \
  -H "unix://$dir/docker.sock" --pidfile "$dir/dockerd.pid" \
  --containerd-namespace slipway-diff --containerd-plugins-namespace slipway-diff-plugins \
  --iptables=false --ip6tables=false --ip-masq=false --bridge=none --userland-proxy=false \
  > "$dir/dockerd.log" 2>&1 < /dev/null &
daemon=$!
echo "$daemon" > "$dir/daemon.pid"
http=
if command -v python3 >/dev/null; then
  python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$http_root" > "$dir/http.log" 2>&1 < /dev/null &
  http=$!
fi
agent=
if command -v ssh-agent >/dev/null; then
  ssh-agent -D -a "$dir/agent.sock" > /dev/null 2>&1 < /dev/null &
  agent=$!
fi

while [ ! -e "$dir/stop" ] && kill -0 "$owner" 2>/dev/null && kill -0 "$daemon" 2>/dev/null; do
  sleep 0.5
done

[ -z "$agent" ] || kill -KILL "$agent" 2>/dev/null
[ -z "$http" ] || kill -KILL "$http" 2>/dev/null
kill -TERM "$daemon" 2>/dev/null
for _ in $(seq 40); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.5; done
kill -KILL "$daemon" 2>/dev/null
wait "$daemon" 2>/dev/null
# A daemon killed hard leaves its containerd and BuildKit's runc containers behind.
if [ -f "$dir/x/containerd/containerd.pid" ]; then
  kill -KILL "$(cat "$dir/x/containerd/containerd.pid")" 2>/dev/null
fi
runc_root="$dir/data/buildkit/executor"
if [ -d "$runc_root" ]; then
  for id in $(runc --root "$runc_root" list -q 2>/dev/null); do
    runc --root "$runc_root" delete --force "$id" >/dev/null 2>&1
  done
fi
awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
  umount -l "$m" 2>/dev/null
done
# A daemon that exited on its own: keep its log for the error message (the tests remove it).
if [ ! -e "$dir/stop" ] && kill -0 "$owner" 2>/dev/null; then cp "$dir/dockerd.log" "$dir.log"; fi
rm -rf "$dir"
}
main "$@"
exit
