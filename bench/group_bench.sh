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
# for the feed twice over (twice the history). The alert delay: events that make 8 new platforms
# alert (25 workers each, labour relations without a contract, in the feed's last month) are
# produced while both run (the baseline), and 8 others right after the kill; each delay is from
# the produce to the last of those alerts counted on the instances' /metrics
# (flexwatch_alerts_total, level changes), so the takeover's is the
# baseline's plus what the takeover holds the platforms of the killed instance back.
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
# (the latest month of many events: the feed plants a few with impossible times)
last_month=$(grep -oE '"ts":"20[0-9]{2}-(0[1-9]|1[0-2])' "$work/feed.ndjson" | sort | uniq -c |
  awk '$1 > 1000 {m = $2} END {print substr(m, 7)}')
# Events that make each of 8 new platforms (`set`) alert: 25 workers a day for 10 days of the last
# month, 12 hours a day on one platform with no contract.
trigger() {
  local set=$1 p w d
  for p in 1 2 3 4 5 6 7 8; do
    for w in $(seq 1 25); do
      for d in 1 2 3 4 5 6 7 8 9; do
        printf '{"type":"order","event_id":"bench-%s-%s-%s-%s","ts":"%s-0%sT10:00:00+08:00","platform_id":"p-bench-%s-%s","worker_id":"w-bench-%s","sector":"food_delivery","duration_min":720,"earnings_cny":500}\n' \
          "$set" "$p" "$w" "$d" "$last_month" "$d" "$set" "$p" "$w"
      done
    done
  done >"$work/trigger-$set.ndjson"
}
# The alerts an instance has counted, from its /metrics on 127.0.0.1:PORT (0 when it is gone).
alerts_at() {
  { exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
    awk '/^flexwatch_alerts_total/ {n += $NF} END {print n + 0}' <&3 &&
    exec 3<&-; } 2>/dev/null || echo 0
}
# Produces trigger set `set` and waits until the alerts counted on PORTS have grown by `want`
# (none: until they have not grown for 5 s); prints "growth seconds".
alert_delay() {
  local set=$1 want=$2 ports=$3 start total last_growth n port grown=0
  total() { n=0; for port in $ports; do n=$((n + $(alerts_at "$port"))); done; echo "$n"; }
  local before
  before=$(total)
  start=$(date +%s.%N)
  "$bin" --config "$work/config.yaml" produce --brokers "$brokers" "$work/trigger-$set.ndjson" \
    >/dev/null
  last_growth=$start
  for _ in $(seq 1 1200); do
    n=$(($(total) - before))
    if [ "$n" -gt "$grown" ]; then grown=$n; last_growth=$(date +%s.%N); fi
    [ -n "$want" ] && [ "$grown" -ge "$want" ] && break
    [ -z "$want" ] && [ "$grown" -gt 0 ] &&
      [ "$(echo "$(date +%s.%N) - $last_growth > 5" | bc -l)" = 1 ] && break
    sleep 0.05
  done
  echo "$grown $(echo "$last_growth - $start" | bc -l)"
}
takeover() {
  local label=$1 set=$2 group="bench-takeover-$RANDOM" pids=() ports=()
  for i in 1 2; do
    ports+=($((28000 + RANDOM % 1000)))
    "$bin" --config "$work/config.yaml" run --brokers "$brokers" --group "$group" \
      --instance "$group-$i" --state "$work/t$i" --metrics-listen "127.0.0.1:${ports[-1]}" \
      >/dev/null 2>"$work/t$i.stderr" &
    pids+=($!)
  done
  # Both have read the topic and judge their share.
  for _ in $(seq 1 1200); do
    grep -q "judging the platforms of" "$work/t1.stderr" &&
      grep -q "judging the platforms of" "$work/t2.stderr" && break
    sleep 0.2
  done
  sleep 10  # their rounds on what they read
  local killed_at took="" before steady after
  trigger "${set}a"
  trigger "${set}b"
  steady=$(alert_delay "${set}a" "" "${ports[*]}")
  # (the first to join may have judged all 8 for a moment before the second joined)
  before=$(grep -c "judging the platforms of 8 partition" "$work/t1.stderr" || true)
  killed_at=$(date +%s.%N)
  kill -9 "${pids[1]}"
  alert_delay "${set}b" "${steady%% *}" "${ports[0]}" >"$work/after" &
  local timing=$!
  for _ in $(seq 1 1200); do
    if [ "$(grep -c "judging the platforms of 8 partition" "$work/t1.stderr" || true)" -gt "$before" ]; then
      took=$(echo "$(date +%s.%N) - $killed_at" | bc -l)
      break
    fi
    sleep 0.05
  done
  wait "${pids[1]}" 2>/dev/null || true
  wait "$timing"
  after=$(cat "$work/after")
  kill -TERM "${pids[0]}"
  wait "${pids[0]}" 2>/dev/null || true
  printf "| %s | %d | %.1f | %d, %.1f | %d, %.1f |\n" "$label" "$in_topic" "${took:-0}" \
    ${steady% *} "${steady#* }" ${after% *} "${after#* }"
  rm -rf "$work"/t1* "$work"/t2*
}
echo
echo "| takeover | messages in the topic | kill to judging all 8 partitions, s | alerts, delay s: both running | alerts, delay s: after the kill |"
echo "|---|---:|---:|---:|---:|"
takeover "the feed" 1
"$bin" --config "$work/config.yaml" produce --brokers "$brokers" "$work/feed.ndjson" >/dev/null
in_topic=$((2 * events))
takeover "the feed, delivered twice" 2
