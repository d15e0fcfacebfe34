#!/usr/bin/env bash
# kafka_bench against a real broker started for it (scripts/kafka-broker.sh) and stopped after:
#
#   bench/kafka_bench.sh [BUILD_DIR] [kafka_bench options...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
work=$(mktemp -d "${TMPDIR:-/tmp}/flexwatch-kafka-bench.XXXXXX")
port=$((29000 + RANDOM % 1000))
"$root/scripts/kafka-broker.sh" "$work/broker" "$port" >"$work/address" &
broker=$!
trap 'kill -TERM $broker 2>/dev/null; wait $broker 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 1200); do
  [ -s "$work/address" ] && break
  kill -0 $broker 2>/dev/null || { echo "kafka_bench.sh: the broker did not start" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/address" ] || { echo "kafka_bench.sh: the broker did not start in 120 s" >&2; exit 1; }
"$build/bench/kafka_bench" --brokers "$(head -n1 "$work/address")" --dir "$work/bench" "$@"
