#!/usr/bin/env bash
# The detectors' share of `announce`'s cost: the last month of a 14-month feed with the shapes of
# real workforces (`gen --seasons`, UUID ids) announced as JSON, with the configuration given and
# with its four detectors disabled, each run ROUNDS times interleaved, the smallest CPU time
# (user + system) of each kept. The share is (with - without) / with.
#
#   bench/detector_cost.sh [--flexwatch BIN] [--config FILE] [--feed FILE] [--rounds N] [--dir DIR]
#
# To compare two builds, give both the same --feed (one that the newer `gen` wrote) and each its
# own binary and configuration: each replays the feed into a state of its own.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/build/flexwatch" config="$here/config/flexwatch.yaml" feed="" rounds=5
dir=$(mktemp -d /tmp/flexwatch-detector-cost-XXXXXX)
while (($#)); do
  case "$1" in
    --flexwatch) bin=$2; shift 2 ;;
    --config) config=$2; shift 2 ;;
    --feed) feed=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "detector_cost: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"
if [[ -z "$feed" ]]; then
  feed="$dir/feed.ndjson"
  "$here/build/flexwatch" gen --seasons --ids uuid --workers 1700 --platforms 14 --months 14 \
    --start 2024-03 --honest --drifts 5 --seed 1 >"$feed"
fi
sed 's/^\(    enabled:\) true/\1 false/' "$config" >"$dir/without.yaml"
[[ $(grep -c '^    enabled: false' "$dir/without.yaml") -ge 4 ]] ||
  { echo "detector_cost: $config: the detectors' enabled keys were not found" >&2; exit 2; }
rm -rf "$dir/state"
"$bin" --config "$config" replay --state "$dir/state" "$feed" >/dev/null 2>"$dir/replay.log"
cpu() {  # CPU seconds of one announce with config $1
  /usr/bin/time -f '%U %S' -o "$dir/time" \
    "$bin" --config "$1" announce --state "$dir/state" --month 2025-04 >"$dir/out.json" 2>/dev/null
  awk '{printf "%.3f", $1 + $2}' "$dir/time"
}
best_with=999999 best_without=999999
for ((r = 0; r < rounds; r++)); do
  w=$(cpu "$config")
  wo=$(cpu "$dir/without.yaml")
  best_with=$(echo "if ($w < $best_with) $w else $best_with" | bc)
  best_without=$(echo "if ($wo < $best_without) $wo else $best_without" | bc)
done
share=$(echo "scale=3; ($best_with - $best_without) / $best_with" | bc)
echo "announce 2025-04: with detectors ${best_with} s CPU, without ${best_without} s; detectors' share $share ($bin)"
