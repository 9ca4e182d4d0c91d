#!/usr/bin/env bash
# `npm run bench`: the benchmarks whose figures docs/benchmarks.md records.
# `npm run bench:metadata` (this script with --metadata-reads): the metadata node at
# scale, 1,000,000 manifests by default (`npm run bench:metadata -- --manifests 200000`).
# `npm run bench:federation` (--federation): publish at A → visible at B, hub + two operators.
# `npm run bench:erasure` (--erasure): codec MB/s per core against @ronomon/reed-solomon when installed.
# `npm run bench:storage` (--storage): repair planning, chunks/s from degraded report to queued job.
set -euo pipefail
cd "$(dirname "$0")/.."
. ops/lib/prereqs.sh
dmf_require_node
dmf_require_npm_deps
dmf_require_servers nats-server
if [ "${1:-}" = "--erasure" ]; then
  shift
  exec npx tsx bench/erasure.ts "$@"
fi
if [ "${1:-}" = "--storage" ]; then
  shift
  dmf_require_servers redis-server
  exec npx tsx bench/storage-repair.ts "$@"
fi
if [ "${1:-}" = "--federation" ]; then
  shift
  exec npx tsx bench/federation-latency.ts "$@"
fi
if [ "${1:-}" = "--metadata-reads" ]; then
  shift
  exec npx tsx bench/metadata-reads.ts "$@"
fi
exec npx tsx bench/run.ts "$@"
