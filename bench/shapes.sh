#!/usr/bin/env bash
# Replay on the event ids real producers use: every id shape of `flexwatch gen --ids` in time
# order and fully shuffled, each beside the parse-only floor of the same file (replay_bench), and,
# with --baseline, the same feeds replayed by another flexwatch binary in the same run.
#
#   bench/shapes.sh [--build DIR] [--events N] [--baseline FLEXWATCH] [--json FILE]
#
# Prints a Markdown table: per shape and order, events per CPU-second, the ratio to parse-only,
# peak RSS and the compacted state per accepted event (and the baseline's, when given).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
events=1250000
baseline=
json=
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    *) echo "usage: bench/shapes.sh [--build DIR] [--events N] [--baseline FLEXWATCH] [--json FILE]" >&2
       exit 2 ;;
  esac
done
case $build in /*) ;; *) build=$PWD/$build ;; esac
cmake --build "$build" --target flexwatch replay_bench >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/flexwatch-shapes.XXXXXX")
trap 'rm -rf "$work"' EXIT

row() {  # shape order label json
  local f=$4
  printf '| %s | %s | %s | %.0f | %.2fx | %.0f MiB | %.2f B |\n' "$1" "$2" "$3" \
    "$(jq -r .replay_events_per_cpu_s "$f")" "$(jq -r .replay_to_parse_ratio "$f")" \
    "$(jq -r '.replay_max_rss_kib / 1024' "$f")" \
    "$(jq -r '.compacted_bytes / (if .accepted > 0 then .accepted else 1 end)' "$f")"
}
echo "| ids | order | flexwatch | replay events/s (CPU) | replay / parse-only | peak RSS | compacted state per accepted event |"
echo "|---|---|---|---:|---:|---:|---:|"
results=()
for shape in sequential uuid hex snowflake; do
  for order in time shuffled; do
    echo "shapes: $shape, $order" >&2
    "$build/bench/replay_bench" --events "$events" --ids "$shape" --order "$order" \
      --dir "$work/run" --json "$work/$shape-$order.json" >/dev/null
    row "$shape" "$order" "this build" "$work/$shape-$order.json"
    results+=("$work/$shape-$order.json")
    if [ -n "$baseline" ]; then
      "$build/bench/replay_bench" --events "$events" --ids "$shape" --order "$order" \
        --flexwatch "$baseline" --dir "$work/run" --json "$work/$shape-$order-baseline.json" \
        >/dev/null
      row "$shape" "$order" "baseline" "$work/$shape-$order-baseline.json"
      results+=("$work/$shape-$order-baseline.json")
    fi
  done
done
if [ -n "$json" ]; then jq -s . "${results[@]}" >"$json"; fi
