# Shared by ops/start.sh, ops/test.sh and ops/bench.sh: make a fresh Debian/Ubuntu
# machine ready, installing what is missing where we may, or saying exactly how.
# shellcheck shell=bash

dmf_die() { echo "dmf: $*" >&2; exit 1; }

# Node.js >= 20.19 (the first 20.x with require(esm) and module.register unflagged).
dmf_require_node() {
  command -v node >/dev/null 2>&1 || dmf_die "Node.js >= 20.19 is required but 'node' is not on PATH"
  node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    if (maj < 20 || (maj === 20 && min < 19)) {
      console.error(`dmf: Node.js >= 20.19 is required; this is ${process.versions.node}`);
      process.exit(1);
    }' || exit 1
}

# npm dependencies: installed when node_modules is missing or older than the lock file.
dmf_npm_deps_stale() {
  [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]
}

dmf_require_npm_deps() {
  dmf_npm_deps_stale || return 0
  # Several commands started at once (three nodes of a federation on one machine) must
  # not run npm ci over each other: one installs, the others wait and find it done.
  if command -v flock >/dev/null 2>&1; then
    exec 9>.dmf-npm-install.lock
    flock 9
  fi
  if dmf_npm_deps_stale; then
    echo "dmf: installing npm dependencies (npm ci)..." >&2
    npm ci --no-audit --no-fund --loglevel=error || dmf_die "npm ci failed"
    touch node_modules/.package-lock.json # the marker the check above compares with
  fi
  if command -v flock >/dev/null 2>&1; then
    flock -u 9
    exec 9>&-
  fi
}

dmf_find_server() { # name -> prints path, or nothing
  PATH="$PATH:/usr/sbin:/usr/local/sbin" command -v "$1" 2>/dev/null || true
}

# nats-server and redis-server, from the distribution's packages.
# Arguments: the servers to require (default both).
dmf_require_servers() {
  local wanted=("$@") missing=() name
  [ ${#wanted[@]} -gt 0 ] || wanted=(nats-server redis-server)
  for name in "${wanted[@]}"; do
    [ -n "$(dmf_find_server "$name")" ] || missing+=("$name")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  local install="apt-get install -y --no-install-recommends ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    dmf_die "missing ${missing[*]}; install them with your package manager (Debian/Ubuntu: sudo apt-get update && sudo $install)"
  fi
  if [ "$(id -u)" -eq 0 ]; then
    echo "dmf: installing ${missing[*]} from the distribution's packages..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive $install >/dev/null) ||
      dmf_die "could not install ${missing[*]}; run: apt-get update && $install"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "dmf: installing ${missing[*]} with sudo..." >&2
    (sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive $install >/dev/null) ||
      dmf_die "could not install ${missing[*]}; run: sudo apt-get update && sudo $install"
  else
    dmf_die "missing ${missing[*]}; install them with: sudo apt-get update && sudo $install"
  fi
  for name in "${missing[@]}"; do
    [ -n "$(dmf_find_server "$name")" ] || dmf_die "$name is still missing after installing it"
  done
}
