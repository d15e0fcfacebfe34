#!/usr/bin/env bash
# The benchmark suite: one command runs every figure of the performance contract and writes
# BENCHMARKS.md (method, machine, figures, each figure beside the floor measured in the same run).
#
#   bench/run.sh [--build DIR] [--out FILE] [--small]
#
# Default sizes (about 40 minutes on 2 cores): replay of 1.25, 5 and 20 million events (the cost
# curve at 1x, 4x and 16x); replay of 20 million events with each id shape of `gen --ids`, in time
# order and shuffled (bench/shapes.sh); evaluation of a month of 62,500, 250,000 and 1 million worker-months
# (1x, 4x, 16x) and of 10 million; Kafka ingest and the alert delay on a real broker; a group of
# 1, 2 and 3 instances and a takeover (bench/group_bench.sh); reads of a live state beside a
# running monitor (bench/live_read_bench.sh); a profile of the replay. --small runs every step at a sixteenth of the sizes, to check the suite itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
out=$root/BENCHMARKS.md
small=0
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --small) small=1; shift ;;
    *) echo "usage: bench/run.sh [--build DIR] [--out FILE] [--small]" >&2; exit 2 ;;
  esac
done
case $build in /*) ;; *) build=$PWD/$build ;; esac

if [ "$(id -u)" = 0 ]; then bash "$root/scripts/setup-debian.sh"; fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")
if grep -q -- "-fsanitize" "$build/CMakeCache.txt"; then
  echo "bench/run.sh: $build is a sanitizer build; benchmark an optimised one" >&2
  exit 2
fi
case $build_type in Release | RelWithDebInfo) ;; *)
  echo "bench/run.sh: $build is a $build_type build; benchmark Release or RelWithDebInfo" >&2
  exit 2 ;;
esac
cmake --build "$build" --target flexwatch replay_bench eval_bench kafka_bench >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/flexwatch-suite.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ((small)); then
  replay_sizes=(78125 312500 1250000)
  shape_events=1250000
  eval_sizes=(3906 15625 62500 625000)
  kafka_args=(--workers 1000 --rounds 1 --seconds 5 --intervals 500)
  kafka_random_args=(--workers 1000 --rounds 1)
else
  replay_sizes=(1250000 5000000 20000000)
  shape_events=20000000
  eval_sizes=(62500 250000 1000000 10000000)
  kafka_args=(--workers 5300 --rounds 3 --seconds 20 --intervals 500)
  kafka_random_args=(--workers 5300 --rounds 3)
fi
say() { echo "bench: $*" >&2; }
started=$(date +%s)
# The tree as the benches were built from it (the report itself, written below, is not a change).
commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet -- . ':(exclude)BENCHMARKS.md' 2>/dev/null || echo ', with local changes')"

for i in 0 1 2; do
  say "replay of ${replay_sizes[$i]} events"
  "$build/bench/replay_bench" --events "${replay_sizes[$i]}" --dir "$work/replay" \
    --json "$work/replay-$i.json" >"$work/replay-$i.md"
done
say "replay of $shape_events events with each id shape, in time order and shuffled"
bash "$root/bench/shapes.sh" --build "$build" --events "$shape_events" --json "$work/shapes.json" \
  >"$work/shapes.md"
for i in 0 1 2 3; do
  say "evaluation of ${eval_sizes[$i]} worker-months"
  "$build/bench/eval_bench" --worker-months "${eval_sizes[$i]}" --dir "$work/eval" \
    --json "$work/eval-$i.json" >"$work/eval-$i.md"
done
say "Kafka ingest and alert delay on a real broker"
bash "$root/bench/kafka_bench.sh" "$build" "${kafka_args[@]}" --json "$work/kafka.json" \
  >"$work/kafka.txt"
say "Kafka ingest of UUID ids, shuffled, on a real broker"
bash "$root/bench/kafka_bench.sh" "$build" "${kafka_random_args[@]}" --intervals none --ids uuid \
  --order shuffled --json "$work/kafka-uuid.json" >"$work/kafka-uuid.txt"
say "a group of 1, 2 and 3 instances, and a takeover, on a real broker"
if ((small)); then group_args=(300 1 1); else group_args=(2000 3 3); fi
bash "$root/bench/group_bench.sh" "$build" "${group_args[@]}" >"$work/group.md"
say "reads of a live state beside a running monitor, on a real broker"
if ((small)); then live_args=(300 2 1); else live_args=(4000 3 3); fi
bash "$root/bench/live_read_bench.sh" "$build" "${live_args[@]}" >"$work/live-read.md"

# Where the replay's time goes: a sampling profile (CPU clock) of `flexwatch replay` on a
# generated feed, the functions that take 1% or more of the samples.
profile_note="perf is not installed"
if command -v perf >/dev/null; then
  say "profile of the replay"
  "$build/flexwatch" gen --workers $((small ? 500 : 5000)) --months 3 --seed 11 >"$work/profile.ndjson"
  if perf record -q -e cpu-clock -F 999 -o "$work/perf.data" -- "$build/flexwatch" replay \
    --no-progress --state "$work/profile-state" "$work/profile.ndjson" >/dev/null 2>&1; then
    perf report -q -i "$work/perf.data" --no-children --sort symbol --percent-limit 1 --stdio \
      2>/dev/null | awk '/^ *[0-9.]+%/ { pct = $1; $1 = ""; $2 = ""; sub(/^ +/, ""); sub(/[ -]+$/, "");
        printf "| %s | `%s` |\n", pct, substr($0, 1, 110) }' >"$work/profile.md"
    profile_note=""
  else
    profile_note="perf could not record here (perf_event_paranoid or a container)"
  fi
fi
finished=$(date +%s)

j() { jq -r "$1" "$2"; }
r() { printf "%.${1}f" "$2"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.0f", k / 1024}'; }
{
  echo "# Benchmarks"
  echo
  echo "Written by \`bench/run.sh\` ($(date -u +%Y-%m-%d), $((finished - started)) s, commit"
  echo "\`$commit\`). Method and the benches"
  echo "themselves: \`bench/README.md\`. Every figure is set beside a floor measured in the same run,"
  echo "since the machines this runs on are shared and their speed drifts between runs."
  echo
  echo "## Machine"
  echo
  echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) cores online"
  echo "- memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo); $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "- build: $build_type, $(g++ --version | head -n1); RocksDB $(dpkg-query -W -f='${Version}' librocksdb-dev 2>/dev/null), simdjson $(dpkg-query -W -f='${Version}' libsimdjson-dev 2>/dev/null), librdkafka $(dpkg-query -W -f='${Version}' librdkafka-dev 2>/dev/null)"
  echo "- configuration: the shipped \`config/flexwatch.yaml\`"
  echo
  echo "## Targets"
  echo
  echo "| target | figure | met |"
  echo "|---|---|---|"
  big=$work/replay-2.json
  rate=$(j .replay_events_per_cpu_s "$big"); ratio=$(j .replay_to_parse_ratio "$big")
  echo "| replay at least 1,000,000 events/s on one core | $(r 0 "$rate") events/s ($(j .lines "$big") events) | $(awk -v x="$rate" 'BEGIN{print (x >= 1000000) ? "yes" : "no"}') |"
  echo "| replay within 2.5x of parse-only | $(r 2 "$ratio")x | $(awk -v x="$ratio" 'BEGIN{print (x <= 2.5) ? "yes" : "no"}') |"
  kr=$(j .median_ratio "$work/kafka.json")
  echo "| Kafka ingest at least 0.7 of a bare consumer | $(r 3 "$kr") (median of the rounds' ratios) | $(awk -v x="$kr" 'BEGIN{print (x >= 0.7) ? "yes" : "no"}') |"
  kur=$(j .median_ratio "$work/kafka-uuid.json")
  echo "| Kafka ingest at least 0.7 of a bare consumer with random ids | $(r 3 "$kur") (UUID ids, shuffled; median of the rounds' ratios) | $(awk -v x="$kur" 'BEGIN{print (x >= 0.7) ? "yes" : "no"}') |"
  e1=$(j .evaluate_best_cpu_s "$work/eval-2.json")
  echo "| evaluation of 1 million worker-months under 2 s | $(r 2 "$e1") s CPU ($(j .worker_months "$work/eval-2.json") worker-months) | $(awk -v x="$e1" -v n="$(j .worker_months "$work/eval-2.json")" 'BEGIN{print (n >= 1000000 && x < 2) ? "yes" : (n < 1000000 ? "(small run)" : "no")}') |"
  maxrss=0
  for f in "$work"/replay-*.json; do maxrss=$(awk -v a="$maxrss" -v b="$(j .replay_max_rss_kib "$f")" 'BEGIN{print (b > a) ? b : a}'); done
  for f in "$work"/eval-*.json; do maxrss=$(awk -v a="$maxrss" -v b="$(j .max_rss_kib "$f")" 'BEGIN{print (b > a) ? b : a}'); done
  maxrss=$(awk -v a="$maxrss" -v b="$(jq '[.[].replay_max_rss_kib] | max' "$work/shapes.json")" 'BEGIN{print (b > a) ? b : a}')
  echo "| peak RSS under 1 GiB whatever the data size | $(mib "$maxrss") MiB at most, over every run below | $(awk -v x="$maxrss" 'BEGIN{print (x < 1048576) ? "yes" : "no"}') |"
  bpw=$(awk -v b="$(j .compacted_bytes "$big")" -v w="$(j .worker_months "$big")" 'BEGIN{print b / w}')
  ebpw=$(j .compacted_bytes_per_worker_month "$work/eval-2.json")
  echo "| state on disk at most 150 bytes per worker-month (compacted) | $(r 0 "$bpw") B (generated mix, $(r 0 "$(awk -v l="$(j .lines "$big")" -v w="$(j .worker_months "$big")" 'BEGIN{print l / w}')") events per worker-month; the export of its rejected lines beside it, $(r 0 "$(awk -v b="$(j .dead_letter_file_bytes "$big")" -v w="$(j .worker_months "$big")" 'BEGIN{print b / w}')") B more); $(r 0 "$ebpw") B (evaluation feed, 5.6 events per worker-month) | $(awk -v x="$bpw" -v y="$ebpw" 'BEGIN{print (x <= 150) ? "yes" : ((y <= 150) ? "thin feed only" : "no")}') |"
  # Every id shape (bench/shapes.sh): the slowest of each order, and the state of random ids.
  sh=$work/shapes.json
  for order in time shuffled; do
    floor=1000000; [ "$order" = shuffled ] && floor=600000
    low=$(jq -r --arg o "$order" '[.[] | select(.order == $o)] | min_by(.replay_events_per_cpu_s) | "\(.replay_events_per_cpu_s) \(.ids)"' "$sh")
    echo "| replay at least $(printf "%'d" "$floor") events/s on one core, any id shape, $order | $(r 0 "${low% *}") events/s at the slowest (${low#* } ids, $(j '.[0].lines' "$sh") events) | $(awk -v x="${low% *}" -v f="$floor" 'BEGIN{print (x >= f) ? "yes" : "no"}') |"
  done
  rnd=$(jq -r '[.[] | select(.ids != "sequential") | .compacted_bytes / .accepted] | max' "$sh")
  seq=$(jq -r '[.[] | select(.ids == "sequential") | .compacted_bytes / .accepted] | max' "$sh")
  echo "| state at most 8 bytes per accepted event with random ids (compacted, everything) | $(r 2 "$rnd") B at the most (UUID, hex, snowflake ids); sequential ids $(r 2 "$seq") B | $(awk -v x="$rnd" 'BEGIN{print (x <= 8) ? "yes" : "no"}') |"
  p99=$(j '.alert_delay[0].alert_ms.p99' "$work/kafka.json")
  echo "| p99 event-to-provisional-alert under 1 s | $(r 0 "$p99") ms at half the maximum rate | $(awk -v x="$p99" 'BEGIN{print (x < 1000) ? "yes" : "no"}') |"
  echo
  echo "## Replay (\`replay_bench\`): events per CPU-second against parse-only"
  echo
  echo "A generated feed (3 months, sequential event ids, about 180 events per worker-month) replayed by"
  echo "\`flexwatch replay\` as a child process into a fresh state: durable state, de-duplication,"
  echo "dead letters. The floor: the same file read by the same line reader and every field of every"
  echo "line parsed by simdjson (strings unescaped, numbers converted), nothing validated or kept."
  echo "Each is run twice, interleaved; the smaller CPU time of each is kept."
  echo
  echo "| scale | events | parse-only CPU s | decode + validate | replay CPU s | replay events/s (one core) | replay / parse-only | peak RSS | state on disk: as left / compacted, per worker-month |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for i in 0 1 2; do
    f=$work/replay-$i.json
    echo "| $((4 ** i))x | $(j .lines "$f") | $(r 2 "$(j .parse_cpu_s "$f")") | $(r 2 "$(j .decode_to_parse_ratio "$f")")x | $(r 2 "$(j .replay_cpu_s "$f")") | $(r 0 "$(j .replay_events_per_cpu_s "$f")") | $(r 2 "$(j .replay_to_parse_ratio "$f")")x | $(mib "$(j .replay_max_rss_kib "$f")") MiB | $(r 0 "$(awk -v b="$(j .state_bytes "$f")" -v w="$(j .worker_months "$f")" 'BEGIN{print b / w}')") B / $(r 0 "$(awk -v b="$(j .compacted_bytes "$f")" -v w="$(j .worker_months "$f")" 'BEGIN{print b / w}')") B |"
  done
  echo
  echo "\"As left\" is the directory after the replay (the write-ahead log holds what the memtables"
  echo "have not flushed yet); \"compacted\" is after flushing and compacting every level, as the state"
  echo "settles. Both leave out \`dead-letter.ndjson\`, the export of the rejected lines that \`replay\`"
  echo "writes beside the state (the dead-letter family's content as JSON, for the platforms): at 16x"
  echo "$(j .dead_letter_file_bytes "$big") bytes. At 16x, the compacted bytes by column family: $(jq -c .compacted_by_family "$big" | tr -d '{}' | sed 's/,/, /g')."
  echo
  echo "## Replay on the ids real producers use (\`bench/shapes.sh\`)"
  echo
  echo "The same generated feed with its event ids in each shape of \`flexwatch gen --ids\` (a producer's"
  echo "counter, UUIDv4, 12 random hex digits, snowflake ids), in time order and fully shuffled, each"
  echo "replayed as above beside the parse-only floor of the same file. The state per accepted event is"
  echo "everything compacted (every column family) over the events applied."
  echo
  cat "$work/shapes.md"
  echo
  echo "## Evaluation (\`eval_bench\`): a month judged, against reading it"
  echo
  echo "One month of N worker-months over 20 platforms (about 5.6 events per worker-month), replayed in"
  echo "process, the state closed and reopened, then the month evaluated as \`announce --final\` does"
  echo "(best of three). The floor: the same scan of every worker-month with its contracts,"
  echo "contributions and policies, judging nothing (best of three)."
  echo
  echo "| scale | worker-months | scan-only CPU s | evaluate CPU s | evaluate / scan | worker-months/s | replay CPU s | peak RSS | state on disk per worker-month, compacted |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for i in 0 1 2 3; do
    f=$work/eval-$i.json
    scale=$((4 ** i))x; ((i == 3)) && scale=$(awk -v a="$(j .worker_months "$f")" -v b="$(j .worker_months "$work/eval-0.json")" 'BEGIN{printf "%dx", a / b}')
    echo "| $scale | $(j .worker_months "$f") | $(r 2 "$(j .scan_cpu_s "$f")") | $(r 2 "$(j .evaluate_best_cpu_s "$f")") | $(r 2 "$(j .ratio_evaluate_to_scan "$f")")x | $(r 0 "$(awk -v w="$(j .worker_months "$f")" -v s="$(j .evaluate_best_cpu_s "$f")" 'BEGIN{print w / s}')") | $(r 1 "$(j .replay_cpu_s "$f")") | $(mib "$(j .max_rss_kib "$f")") MiB | $(r 0 "$(j .compacted_bytes_per_worker_month "$f")") B |"
  done
  echo
  echo "## Cost curve: how cost grows with the data"
  echo
  echo "Per unit of data at 1x, 4x and 16x (the rows above): CPU per million events replayed, CPU per"
  echo "million worker-months evaluated, peak RSS. Linear cost keeps the first two flat."
  echo
  echo "| scale | replay CPU s per million events | evaluate CPU s per million worker-months | replay peak RSS | evaluation run peak RSS |"
  echo "|---|---:|---:|---:|---:|"
  for i in 0 1 2; do
    f=$work/replay-$i.json; g=$work/eval-$i.json
    echo "| $((4 ** i))x | $(r 3 "$(awk -v c="$(j .replay_cpu_s "$f")" -v n="$(j .lines "$f")" 'BEGIN{print c * 1e6 / n}')") | $(r 3 "$(awk -v c="$(j .evaluate_best_cpu_s "$g")" -v n="$(j .worker_months "$g")" 'BEGIN{print c * 1e6 / n}')") | $(mib "$(j .replay_max_rss_kib "$f")") MiB | $(mib "$(j .max_rss_kib "$g")") MiB |"
  done
  echo
  echo "## Kafka (\`kafka_bench\`): ingest through the monitor against a bare consumer, and the alert delay"
  echo
  echo "A real Kafka broker (one KRaft node, Java 17) on the same machine. Ingest: a generated month"
  echo "on a topic of 4 partitions, read by a bare librdkafka consumer (the floor: the same batches,"
  echo "nothing done with them) and by the monitor (\`ConsumeKafka\` as \`run\` drives it: decoding, state,"
  echo "offsets in the state, commits), alternating, each from its first batch of messages to the last"
  echo "message (the monitor: to the commit that holds it), so that neither's start (a group join,"
  echo "librdkafka's half-second wait for a partition's leader) counts. Alert delay: a steady load at"
  echo "half the maximum sustained rate (below), five probes a second that each turn a platform from"
  echo "green to red; from each probe's production to its provisional alert on the alerts topic, beside"
  echo "Kafka's own delivery of the probe to a bare consumer (the floor)."
  echo
  k=$work/kafka.json
  echo "| events | bare consumer events/s (best) | monitor events/s (best / median) | median of the rounds' ratios | monitor sustained in the alert-delay set-up |"
  echo "|---:|---:|---:|---:|---:|"
  echo "| $(j .events "$k") | $(j .bare_events_per_s "$k") | $(j .monitor_events_per_s "$k") / $(j .monitor_median_events_per_s "$k") | $(r 3 "$(j .median_ratio "$k")") | $(j .sustained_events_per_s "$k") events/s |"
  k=$work/kafka-uuid.json
  echo "| $(j .events "$k"), UUID ids, shuffled | $(j .bare_events_per_s "$k") | $(j .monitor_events_per_s "$k") / $(j .monitor_median_events_per_s "$k") | $(r 3 "$(j .median_ratio "$k")") | (not measured) |"
  echo
  echo "The load of the alert-delay round is half the lower of the monitor's median above and the rate"
  echo "it sustains in the alert-delay set-up itself (the events produced while it consumes, with the"
  echo "bench's reader of the same topic beside it, on the cores the broker uses too)."
  echo
  echo "| evaluate_interval_ms | load events/s | probes alerted | Kafka's delivery median / p99 | probe to provisional alert median / p99 / max | evaluation rounds (mean / max) | monitor behind at the end |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  jq -r '.alert_delay[] | "| \(.interval_ms) | \(.load_events_per_s) | \(.alerted)/\(.probes) | \(.transport_ms.median | floor) ms / \(.transport_ms.p99 | floor) ms | \(.alert_ms.median | floor) ms / \(.alert_ms.p99 | floor) ms / \(.alert_ms.max | floor) ms | \(.rounds) (\(.round_mean_ms * 10 | floor / 10) ms / \(.round_max_ms | floor) ms) | \(.behind_s * 10 | floor / 10) s |"' "$work/kafka.json"
  echo
  echo "## Several instances, one city (\`bench/group_bench.sh\`)"
  echo
  echo "A real Kafka broker (one KRaft node) with the feed on a topic of 8 partitions. Each round starts"
  echo "1, 2 and 3 instances of a group together on fresh states and lets them read the whole topic"
  echo "(\`--idle-exit 5\`, not counted in the wall time); the group's CPU is the sum of its instances'"
  echo "user and system time. Every instance reads every partition (docs/operations.md, \"Several"
  echo "instances\"), so the group's events per CPU-second fall as 1/N: instances buy availability, not"
  echo "throughput. The takeover: two instances that have read the topic, one killed with SIGKILL;"
  echo "from the kill to the survivor judging all 8 partitions (the 6 s session timeout, the"
  echo "rebalance, the alerts read back). The survivor already holds every partition's history, so"
  echo "the time does not grow with it (the topic delivered twice over)."
  echo
  cat "$work/group.md"
  echo
  echo "## Reading a live state (\`bench/live_read_bench.sh\`)"
  echo
  echo "A real Kafka broker with the feed on a topic of 8 partitions. Each round, one \`run\` reads the"
  echo "whole topic on a fresh state alone, and one with a reader beside it running \`announce\` and"
  echo "\`inspect --dimension\` on its state in a loop; each is timed from its start to its \"caught up\""
  echo "line. The ratios are alone over with reads (1.00: the reads cost the monitor nothing; the"
  echo "reader shares the machine's 2 cores with it and the broker). Then the same reads on the"
  echo "caught-up state beside the running monitor and after it stopped (median of 5)."
  echo
  cat "$work/live-read.md"
  echo
  echo "## Where the replay's time goes"
  echo
  if [ -z "$profile_note" ]; then
    echo "\`perf record -e cpu-clock\` of \`flexwatch replay\` on a generated feed ($(wc -l <"$work/profile.ndjson") events), the"
    echo "functions with 1% or more of the samples (self time):"
    echo
    echo "| samples | function |"
    echo "|---:|---|"
    cat "$work/profile.md"
  else
    echo "No profile: $profile_note."
  fi
  echo
  echo "## Raw output"
  echo
  echo '```'
  for i in 0 1 2; do cat "$work/replay-$i.md"; echo; done
  for i in 0 1 2 3; do cat "$work/eval-$i.md"; echo; done
  cat "$work/kafka.txt"
  cat "$work/kafka-uuid.txt"
  echo '```'
} >"$out"
say "wrote $out"
