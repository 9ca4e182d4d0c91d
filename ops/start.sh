#!/usr/bin/env bash
# `npm start`: the embedded local DMF. Installs what is missing, then runs `dmf up`.
# Arguments are passed to `dmf up` (npm start -- --port 9443).
set -euo pipefail
cd "$(dirname "$0")/.."
. ops/lib/prereqs.sh
dmf_require_node
dmf_require_npm_deps
servers=()
[ -n "${DMF_NATS_URL:-}" ] || servers+=(nats-server)
[ -n "${DMF_REDIS_URL:-}" ] || servers+=(redis-server)
[ ${#servers[@]} -eq 0 ] || dmf_require_servers "${servers[@]}"
exec node apps/cli/bin/dmf.mjs up "$@"
