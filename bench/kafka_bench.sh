#!/usr/bin/env bash
# kafka_bench against a real broker started for it (scripts/kafka-broker.sh) and stopped after:
#
#   bench/kafka_bench.sh [BUILD_DIR] [kafka_bench options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
work=$(mktemp -d "${TMPDIR:-/tmp}/flexwatch-kafka-bench.XXXXXX")
. "$root/bench/broker.sh"
start_broker kafka_bench.sh 29000
"$build/bench/kafka_bench" --brokers "$brokers" --dir "$work/bench" "$@"
