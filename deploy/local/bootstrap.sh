#!/usr/bin/env bash
# Brings this machine to the state that tests, the demo and the benchmarks expect:
# Debian packages, node_modules matching package-lock.json, a running dockerd, a
# JetStream nats-server on 127.0.0.1:4222 and the fixture images. Idempotent: it
# only does what is missing, so `npm test` can call it every time (< 1 s when warm).
# CI starts with none of our processes alive and no systemd, so the daemons are
# started here, detached (setsid) so a Ctrl-C on the test run does not take them down.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# Debian puts dockerd and nats-server in /usr/sbin, which a non-root PATH lacks.
export PATH="$PATH:/usr/sbin:/sbin"
# /usr/local/bin/docker on some machines is a different client; always talk to Debian's.
docker_bin=/usr/bin/docker
# chromium: the dashboard's browser test drives it through playwright-core (never its own download).
packages=(docker.io haproxy nats-server socat busybox-static gcc libc6-dev docker-registry chromium)
nats_host=127.0.0.1
nats_port=4222
daemon_wait_s=60

if [ "$(id -u)" -eq 0 ]; then
  state_dir="${FLEETROLL_STATE_DIR:-/var/lib/fleetroll}"
  log_dir="${FLEETROLL_LOG_DIR:-/var/log}"
else
  state_dir="${FLEETROLL_STATE_DIR:-$root/.fleetroll/state}"
  log_dir="${FLEETROLL_LOG_DIR:-$root/.fleetroll/log}"
fi
dockerd_log="$log_dir/fleetroll-dockerd.log"
nats_log="$log_dir/fleetroll-nats.log"
nats_pidfile="$state_dir/nats.pid"

t0=$EPOCHREALTIME
say() { echo "bootstrap: $*"; }
fail() {
  echo "bootstrap: FAILED: $*" >&2
  exit 1
}
# Seconds since $1 (an $EPOCHREALTIME value), to one decimal, without forking.
since() {
  local a=${1/./} b=${EPOCHREALTIME/./}
  local ms=$(((10#$b - 10#$a) / 1000))
  printf '%d.%02ds' $((ms / 1000)) $((ms % 1000 / 10))
}
log_tail() {
  if [ -f "$1" ]; then
    echo "--- last lines of $1:" >&2
    tail -n 25 "$1" >&2
  fi
}

# ---- Debian packages --------------------------------------------------------
install_packages() {
  local missing=() p status
  for p in "${packages[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [ "$status" = "install ok installed" ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    fail "missing Debian packages: ${missing[*]} — as root run: apt-get update && apt-get install -y ${missing[*]}"
  fi
  local t=$EPOCHREALTIME added_policy=0
  say "installing ${missing[*]}"
  # Without systemd, the packages' init scripts would start their own dockerd, a
  # registry on every interface and so on; block them while installing (the usual
  # policy-rc.d trick) unless the machine already has a policy of its own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
  if [ "$added_policy" = 1 ]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  say "installed ${missing[*]} in $(since "$t")"
}

# ---- node_modules -----------------------------------------------------------
# The stamp is the lockfile's hash plus the Node version, written only after a
# successful `npm ci`: a lockfile change, a half-finished install or a new Node
# all lead to a clean reinstall. mtimes are not used (a fresh clone sets them all).
install_node_modules() {
  command -v npm >/dev/null || fail "npm not found: install Node.js >= 20.19 first"
  local want have="" stamp=node_modules/.fleetroll-lock-hash
  want="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
  if [ -f "$stamp" ] && [ -f node_modules/.package-lock.json ]; then have="$(cat "$stamp")"; fi
  [ "$have" = "$want" ] && return 0
  local t=$EPOCHREALTIME why="node_modules missing or not installed by npm ci"
  [ -n "$have" ] && why="package-lock.json or Node changed"
  say "npm ci ($why)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" >"$stamp"
  say "npm ci done in $(since "$t")"
}

# ---- dockerd ----------------------------------------------------------------
docker_up() { timeout 10 "$docker_bin" info >/dev/null 2>&1; }
dockerd_pid=""
start_dockerd() {
  docker_up && return 0
  [ "$(id -u)" -eq 0 ] ||
    fail "dockerd does not answer to $(id -un): start it as root, or give this user access to /var/run/docker.sock"
  command -v dockerd >/dev/null || fail "dockerd not found (package docker.io)"
  local pidfile=/var/run/docker.pid pid
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = dockerd ]; then
      # A dockerd that is still starting (or shutting down): wait for it rather than
      # starting a second one that would refuse to run anyway.
      dockerd_pid=$pid
      say "dockerd (pid $pid) is running but not answering yet; waiting"
      return 0
    fi
    # Left behind by a killed dockerd (or its pid now reused by something else);
    # dockerd refuses to start while it names a live process.
    say "removing stale $pidfile (pid ${pid:-?} is not a dockerd)"
    rm -f "$pidfile"
  fi
  mkdir -p "$log_dir"
  # From / so the daemon does not pin this checkout (CI deletes its workspace);
  # exec keeps $! the daemon's own pid.
  (cd / && exec setsid nohup dockerd >"$dockerd_log" 2>&1 </dev/null) &
  dockerd_pid=$!
  say "starting dockerd (pid $dockerd_pid, log $dockerd_log)"
}
# wait_for NAME PID CHECK LOG: until CHECK succeeds, failing with LOG's tail if the
# daemon exits or the bounded wait runs out. PID is empty when nothing was started.
wait_for() {
  local name=$1 pid=$2 check=$3 log=$4
  [ -n "$pid" ] || return 0
  local t=$EPOCHREALTIME deadline=$((SECONDS + daemon_wait_s))
  until "$check"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail "$log"
      fail "$name (pid $pid) exited before answering"
    fi
    if [ $SECONDS -ge $deadline ]; then
      log_tail "$log"
      fail "$name (pid $pid) did not answer within ${daemon_wait_s}s"
    fi
    sleep 0.2
  done
  say "$name up after $(since "$t")"
}

# ---- nats-server ------------------------------------------------------------
# Prints the server's INFO line when something accepts on the port; bash's /dev/tcp
# keeps this free of nc/curl.
nats_info() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$nats_host/$nats_port && IFS= read -r line <&3 && printf '%s' \"\$line\"" \
    2>/dev/null
}
nats_pid=""
start_nats() {
  local info
  if info="$(nats_info)"; then
    [[ "$info" == INFO* ]] || fail "$nats_host:$nats_port is taken by something that is not NATS"
    # A server without JetStream would make every KV call fail much later, with a
    # far less obvious error.
    [[ "$info" == *'"jetstream":true'* ]] ||
      fail "the NATS server on $nats_host:$nats_port has no JetStream; stop it or restart it with -js"
    return 0
  fi
  local pid
  pid="$(cat "$nats_pidfile" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = nats-server ]; then
    # Ours from an earlier run, still starting: a second one could not bind the port.
    nats_pid=$pid
    say "nats-server (pid $pid) is running but not answering yet; waiting"
    return 0
  fi
  command -v nats-server >/dev/null || fail "nats-server not found (package nats-server)"
  mkdir -p "$state_dir/nats" "$log_dir"
  (cd / && exec setsid nohup nats-server -a "$nats_host" -p "$nats_port" -js -sd "$state_dir/nats" \
    >"$nats_log" 2>&1 </dev/null) &
  nats_pid=$!
  echo "$nats_pid" >"$nats_pidfile"
  say "starting nats-server (pid $nats_pid, log $nats_log, pid file $nats_pidfile)"
}
nats_up() { nats_info >/dev/null; }

# ---- fixture images ---------------------------------------------------------
build_images() {
  local t=$EPOCHREALTIME out
  out="$(DOCKER="$docker_bin" bash test/fixtures/build-images.sh)" || {
    echo "$out" >&2
    fail "building the fixture images (test/fixtures/build-images.sh)"
  }
  [ -z "$out" ] && return 0
  local line
  while IFS= read -r line; do say "$line"; done <<<"$out"
  say "fixture images built in $(since "$t")"
}

install_packages
# Daemons start first and come up while npm ci runs.
start_dockerd
start_nats
install_node_modules
wait_for dockerd "$dockerd_pid" docker_up "$dockerd_log"
wait_for nats-server "$nats_pid" nats_up "$nats_log"
build_images
say "ready in $(since "$t0")"
