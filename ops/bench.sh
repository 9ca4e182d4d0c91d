#!/usr/bin/env bash
# `npm run bench`: the benchmarks whose figures docs/benchmarks.md records.
set -euo pipefail
cd "$(dirname "$0")/.."
. ops/lib/prereqs.sh
dmf_require_node
dmf_require_npm_deps
dmf_require_servers nats-server
exec npx tsx bench/run.ts "$@"
