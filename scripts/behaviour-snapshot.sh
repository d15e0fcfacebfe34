#!/usr/bin/env bash
# behaviour-snapshot.sh BUILD_DIR OUT_DIR: what flexwatch says about a fixed generated feed and
# about a shuffled copy of it, every output a user or a downstream tool reads: `inspect --dump`,
# every month's and the year's announcement in every format and language (provisional and final)
# with their evidence files, the detectors' series, a backtest, a self-check report and the alerts
# of a monitor's rounds. Two builds whose snapshots are byte-identical (diff -r) behave the same on
# this feed: a change meant to keep behaviour (a re-layering) is checked with it.
set -euo pipefail
build=$(cd "$1" && pwd)
out=$2
fw="$build/flexwatch"
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$fw" gen --workers 400 --platforms 6 --months 14 --start 2024-01 --seed 20 --drifts 3 \
  > "$work/feed.ndjson"
# A few lines a real producer sends by mistake, so the dead letters are part of the snapshot.
printf '%s\n' '{"type":"order"' '{"type":"complaint","event_id":"x1","ts":"1999-12-31T00:00:00+08:00","platform_id":"p-x","category":"other"}' \
  >> "$work/feed.ndjson"
# The same lines in another order (a fixed permutation, so the snapshot is itself reproducible).
awk 'BEGIN{srand(7)} {printf "%.12f\t%s\n", rand(), $0}' "$work/feed.ndjson" | sort -k1,1 |
  cut -f2- > "$work/shuffled.ndjson"

export FLEXWATCH_PSEUDONYM_KEY=behaviour-snapshot-key
repo=$(cd "$(dirname "$0")/.." && pwd)
sed -e 's/orange_percent: 10/orange_percent: 3/' -e 's/red_percent: 25/red_percent: 8/' -e 's/threshold_z: 5/threshold_z: 2/' \
  "$repo/config/flexwatch.yaml" > "$work/stricter.yaml"
for copy in feed shuffled; do
  s="$work/$copy-state"
  o="$out/$copy"
  mkdir -p "$o"
  "$fw" replay --state "$s" "$work/$copy.ndjson" > /dev/null 2> "$o/replay.err" || true
  sed "s#$work/$copy.ndjson#FEED#g" "$s/dead-letter.ndjson" > "$o/dead-letter.ndjson"
  "$fw" inspect --state "$s" --dump > "$o/dump.txt"
  "$fw" inspect --state "$s" > "$o/inspect.json"
  "$fw" series --state "$s" > "$o/series.jsonl"
  for m in 2024-01 2024-06 2024-12 2025-01 2025-02; do
    for final in "" --final; do
      for lang in en zh; do
        d="$o/announce-$m$final-$lang"
        "$fw" announce --state "$s" --month "$m" $final --format all --lang "$lang" --out "$d" \
          > /dev/null
      done
    done
    "$fw" announce --state "$s" --month "$m" > "$o/announce-$m.stdout.json"
  done
  for lang in en zh; do
    "$fw" announce --state "$s" --year 2024 --format all --lang "$lang" --out "$o/year-2024-$lang" \
      > /dev/null
  done
  for f in text json; do
    "$fw" backtest --state "$s" --with "$work/stricter.yaml" --format $f > "$o/backtest.$f" || true
  done
  cp -r "$s" "$work/$copy-alerts"
  "$build/tests/alerts_snapshot" "$work/$copy-alerts" > "$o/alerts.jsonl"
done
grep -F '"p-meal-1"' "$work/shuffled.ndjson" > "$work/p-meal-1.ndjson"
for f in text json; do
  "$fw" selfcheck --platform p-meal-1 --format $f "$work/p-meal-1.ndjson" > "$out/selfcheck.$f" || true
done
grep -rlF "$work" "$out" | xargs -r sed -i "s#$work#WORK#g"
