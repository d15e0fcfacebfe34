#!/usr/bin/env bash
# Reading a live state (cli.md 1.1): what the reading commands cost beside a running `run`, and
# what they cost the monitor, against a real broker started for it (scripts/kafka-broker.sh, 8
# partitions) and stopped after:
#
#   bench/live_read_bench.sh [BUILD_DIR] [WORKERS [MONTHS [ROUNDS]]]   # 4000 3 3 by default
#
# The monitor's side: each round, one `run` reads the whole feed on a fresh state alone (the
# baseline), and one with a reader beside it that runs `announce` and `inspect --dimension` on
# its state in a loop until it has caught up; each is timed from its start to its "caught up"
# line on stderr, and its CPU is its user + system time; the ratio is the events per second (and
# per CPU-second) with the reader over those alone, in the same round.
# The reader's side: on the caught-up state, the same reads beside the running monitor and
# after it stopped (a read-only open either way), each the median of 5; the ratio is live over
# stopped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
workers=${2:-4000}
months=${3:-3}
rounds=${4:-3}
bin="$build/flexwatch"
work=$(mktemp -d "${TMPDIR:-/tmp}/flexwatch-live-read-bench.XXXXXX")
. "$root/bench/broker.sh"
start_broker live_read_bench.sh 29000 8
sed 's/^  client: {}$/  client: {session.timeout.ms: "6000", heartbeat.interval.ms: "500"}/' \
  "$root/config/flexwatch.yaml" >"$work/config.yaml"
"$bin" gen --workers "$workers" --months "$months" --seed 7 --ids uuid >"$work/feed.ndjson"
events=$(wc -l <"$work/feed.ndjson")
"$bin" --config "$work/config.yaml" produce --brokers "$brokers" "$work/feed.ndjson" >/dev/null
# The second month of the feed, and a platform of it, for the reads.
month=$(grep -oE '"ts":"20[0-9]{2}-(0[1-9]|1[0-2])' "$work/feed.ndjson" | cut -c7- | sort |
  uniq -c | awk '$1 > 1000 {print $2}' | sed -n 2p)
platform=p-ride-2

reads() {  # one of each read on STATE (the platform may not be in it yet: exit 2, a read all the same)
  "$bin" announce --state "$1" --month "$month" >/dev/null 2>&1 || true
  "$bin" inspect --state "$1" --platform "$platform" --month "$month" \
    --dimension contract_avoidance >/dev/null 2>&1 || true
}
# Starts `run` on STATE in group GROUP; sets $pid. Its CPU seconds go to STATE.cpu.
start_run() {
  /usr/bin/time -f "%U %S" -o "$1.cpu" "$bin" --config "$work/config.yaml" run \
    --brokers "$brokers" --group "$2" --state "$1" >/dev/null 2>"$1.stderr" &
  pid=$!
}
caught_up() { grep -q "caught up: every partition read to its end" "$1.stderr"; }
stop_run() {  # the monitor under /usr/bin/time, which then writes its CPU
  pkill -TERM -P "$pid"
  wait "$pid" || true
}

echo "# live_read_bench: $events events ($workers workers, $months months, UUID ids), 8 partitions; reads of $month"
echo "| round | alone: s to caught up | CPU s | with reads: s to caught up | CPU s | reads done | events/s ratio | events per CPU-s ratio |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
  start=$(date +%s.%N)
  start_run "$work/alone" "bench-alone-$round-$RANDOM"
  until caught_up "$work/alone"; do sleep 0.05; done
  alone=$(echo "$(date +%s.%N) - $start" | bc -l)
  stop_run
  alone_cpu=$(awk '{print $1 + $2}' "$work/alone.cpu")

  start=$(date +%s.%N)
  start_run "$work/read" "bench-read-$round-$RANDOM"
  n=0
  until caught_up "$work/read"; do
    if [ -e "$work/read/CURRENT" ]; then
      reads "$work/read"
      n=$((n + 1))
    else
      sleep 0.05
    fi
  done
  read_s=$(echo "$(date +%s.%N) - $start" | bc -l)
  stop_run
  read_cpu=$(awk '{print $1 + $2}' "$work/read.cpu")
  printf "| %d | %.1f | %.2f | %.1f | %.2f | %d | %.2f | %.2f |\n" "$round" "$alone" "$alone_cpu" \
    "$read_s" "$read_cpu" "$n" "$(echo "$alone / $read_s" | bc -l)" \
    "$(echo "$alone_cpu / $read_cpu" | bc -l)"
  [ "$round" = "$rounds" ] || rm -rf "$work/alone" "$work/read"
done

# The reads themselves, on the last round's state: beside the running monitor, then stopped.
median_of_5() {
  local i t s
  for i in 1 2 3 4 5; do
    s=$(date +%s.%N)
    "$@" >/dev/null
    t=$(echo "$(date +%s.%N) - $s" | bc -l)
    echo "$t"
  done | sort -n | sed -n 3p
}
start_run "$work/read" "bench-read-last-$RANDOM"
until grep -q "judging the platforms of" "$work/read.stderr"; do sleep 0.05; done
sleep 3
announce_live=$(median_of_5 "$bin" announce --state "$work/read" --month "$month")
dimension_live=$(median_of_5 "$bin" inspect --state "$work/read" --platform "$platform" \
  --month "$month" --dimension contract_avoidance)
stop_run
announce_stopped=$(median_of_5 "$bin" announce --state "$work/read" --month "$month")
dimension_stopped=$(median_of_5 "$bin" inspect --state "$work/read" --platform "$platform" \
  --month "$month" --dimension contract_avoidance)
echo
echo "| read (median of 5) | beside the running monitor, s | after it stopped, s | ratio |"
echo "|---|---:|---:|---:|"
printf "| \`announce --month %s\` | %.2f | %.2f | %.2f |\n" "$month" "$announce_live" \
  "$announce_stopped" "$(echo "$announce_live / $announce_stopped" | bc -l)"
printf "| \`inspect --dimension contract_avoidance\` (%s) | %.2f | %.2f | %.2f |\n" "$platform" \
  "$dimension_live" "$dimension_stopped" "$(echo "$dimension_live / $dimension_stopped" | bc -l)"
