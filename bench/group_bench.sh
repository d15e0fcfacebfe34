#!/usr/bin/env bash
# Several instances, one city (cli.md 1.1): what a group of 1, 2 and 3 `run` costs on the same
# feed, and how long a takeover takes, against a real broker started for it
# (scripts/kafka-broker.sh, 8 partitions) and stopped after:
#
#   bench/group_bench.sh [BUILD_DIR] [WORKERS [MONTHS [ROUNDS]]]
#
# For each group size, in the same script and against the same topic, each round starts the
# instances together on fresh states and lets them read the whole feed to --idle-exit; the
# group's CPU is every instance's user + system time (the 1-instance group is the baseline of
# the ratio). The takeover: two instances read the feed, one is killed with SIGKILL, and the
# survivor's stderr is timed from the kill to its line saying it judges all 8 partitions (the
# session timeout, 6 s here, then the rebalance and the alerts read back); done for the feed and
# for the feed twice over (twice the history).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
workers=${2:-2000}
months=${3:-3}
rounds=${4:-3}
bin="$build/flexwatch"
work=$(mktemp -d "${TMPDIR:-/tmp}/flexwatch-group-bench.XXXXXX")
. "$root/bench/broker.sh"
start_broker group_bench.sh 27000 8
# The shipped configuration (its rules: the instances judge and alert), with 6 s sessions.
sed 's/^  client: {}$/  client: {session.timeout.ms: "6000", heartbeat.interval.ms: "500"}/' \
  "$root/config/flexwatch.yaml" >"$work/config.yaml"
grep -q 'session.timeout.ms: "6000"' "$work/config.yaml" ||
  { echo "group_bench.sh: config/flexwatch.yaml has no 'client: {}' to set" >&2; exit 1; }
"$bin" gen --workers "$workers" --months "$months" --seed 7 --ids uuid >"$work/feed.ndjson"
events=$(wc -l <"$work/feed.ndjson")
"$bin" --config "$work/config.yaml" produce --brokers "$brokers" "$work/feed.ndjson" >/dev/null

# One instance of `group` as instance `name` on state `state`; its CPU seconds go to `state.cpu`.
instance() {
  local group=$1 name=$2 state=$3
  /usr/bin/time -f "%U %S" -o "$state.cpu" "$bin" --config "$work/config.yaml" run \
    --brokers "$brokers" --group "$group" --instance "$name" --state "$state" --idle-exit 5 \
    >/dev/null 2>"$state.stderr"
}

echo "# group_bench: $events events ($workers workers, $months months, UUID ids), 8 partitions"
echo "| instances | round | wall s | group CPU s | events per group CPU-s | ratio to 1 instance |"
echo "|---:|---:|---:|---:|---:|---:|"
declare -A base
for round in $(seq 1 "$rounds"); do  # ROUNDS 0: the takeover alone
  for n in 1 2 3; do
    group="bench-$n-$round-$RANDOM"
    start=$(date +%s.%N)
    pids=()
    for i in $(seq 1 "$n"); do
      instance "$group" "$group-$i" "$work/s-$n-$round-$i" &
      pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    wall=$(echo "$(date +%s.%N) - $start - 5" | bc -l)  # less the idle wait
    cpu=0
    for i in $(seq 1 "$n"); do
      cpu=$(echo "$cpu + $(awk '{print $1 + $2}' "$work/s-$n-$round-$i.cpu")" | bc -l)
    done
    rate=$(echo "$events / $cpu" | bc -l)
    [ "$n" = 1 ] && base[$round]=$rate
    printf "| %d | %d | %.1f | %.2f | %.0f | %.2f |\n" "$n" "$round" "$wall" "$cpu" "$rate" \
      "$(echo "$rate / ${base[$round]}" | bc -l)"
    rm -rf "$work"/s-"$n"-"$round"-*
  done
done

# The takeover: two instances caught up, one killed; the survivor's time to judge everything.
in_topic=$events
takeover() {
  local label=$1 group="bench-takeover-$RANDOM" pids=()
  for i in 1 2; do
    "$bin" --config "$work/config.yaml" run --brokers "$brokers" --group "$group" \
      --instance "$group-$i" --state "$work/t$i" >/dev/null 2>"$work/t$i.stderr" &
    pids+=($!)
  done
  # Both have read the topic and judge their share.
  for _ in $(seq 1 1200); do
    grep -q "judging the platforms of" "$work/t1.stderr" &&
      grep -q "judging the platforms of" "$work/t2.stderr" && break
    sleep 0.2
  done
  sleep 10  # their rounds on what they read
  local killed_at took="" before
  # (the first to join may have judged all 8 for a moment before the second joined)
  before=$(grep -c "judging the platforms of 8 partition" "$work/t1.stderr" || true)
  killed_at=$(date +%s.%N)
  kill -9 "${pids[1]}"
  wait "${pids[1]}" 2>/dev/null || true
  for _ in $(seq 1 1200); do
    if [ "$(grep -c "judging the platforms of 8 partition" "$work/t1.stderr" || true)" -gt "$before" ]; then
      took=$(echo "$(date +%s.%N) - $killed_at" | bc -l)
      break
    fi
    sleep 0.05
  done
  kill -TERM "${pids[0]}"
  wait "${pids[0]}" 2>/dev/null || true
  printf "| %s | %d | %.1f |\n" "$label" "$in_topic" "${took:-0}"
  rm -rf "$work"/t1* "$work"/t2*
}
echo
echo "| takeover | messages in the topic | kill to judging all 8 partitions, s |"
echo "|---|---:|---:|"
takeover "the feed"
"$bin" --config "$work/config.yaml" produce --brokers "$brokers" "$work/feed.ndjson" >/dev/null
in_topic=$((2 * events))
takeover "the feed, delivered twice"
