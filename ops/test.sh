#!/usr/bin/env bash
# `npm test`: the whole suite. Installs what is missing, type-checks the tree, then runs
# every test against real nats-server and redis-server processes that the tests start
# themselves on free ports. Extra arguments go to vitest (npm test -- libs/protocol).
set -euo pipefail
cd "$(dirname "$0")/.."
. ops/lib/prereqs.sh
dmf_require_node
dmf_require_npm_deps
dmf_require_servers nats-server redis-server
# Colour codes only help a person at a terminal; CI logs and files get plain text.
[ -t 1 ] || export NO_COLOR=1
echo "dmf: type-checking (tsc)..."
npx tsc -p tsconfig.json
exec npx vitest run --reporter=default --reporter=./test/support/summary-reporter.ts "$@"
