#!/usr/bin/env bash
# The whole test suite: install, build, format check, every test (real RocksDB in temp dirs),
# the same tests again under AddressSanitizer + UndefinedBehaviorSanitizer, and a short libFuzzer
# run of the decoder from its kept corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
jobs=2
fuzz_seconds=${FLEXWATCH_FUZZ_SECONDS:-30}

echo "== format"
sources=$(git ls-files '*.cc' '*.h' 2>/dev/null || find . -name '*.cc' -o -name '*.h' | grep -v '^./build')
clang-format --dry-run --Werror $sources

echo "== fetch the real Kafka broker for the integration tests (Maven Central, cached in ~/.m2)"
(cd kafka && mvn -q -B dependency:copy-dependencies -DoutputDirectory=target/lib \
  -DincludeScope=runtime)

echo "== build and test"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j$jobs
log=$(mktemp)
ctest --test-dir build -j$jobs --output-on-failure | tee "$log"
total=$(grep -oE 'tests failed out of [0-9]+' "$log" | grep -oE '[0-9]+$')

echo "== sanitizers (address, undefined)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFLEXWATCH_SANITIZE=ON \
  -DFLEXWATCH_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j$jobs
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j$jobs --output-on-failure | tee "$log"
total=$((total + $(grep -oE 'tests failed out of [0-9]+' "$log" | grep -oE '[0-9]+$')))
rm -f "$log"

echo "== fuzz the decoder, the upload path and the judging path"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DFLEXWATCH_FUZZ=ON -DFLEXWATCH_BUILD_TESTS=OFF -DFLEXWATCH_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j$jobs --target decoder_fuzz upload_fuzz evaluate_fuzz
for target in decoder_fuzz upload_fuzz evaluate_fuzz; do
  # upload_fuzz: the self-check API's upload path (a whole body through the line reader).
  # evaluate_fuzz: lines into a real state, each month they touch judged, warned and rendered.
  work=$(mktemp -d)
  cp ingest/fuzz/corpus/* "$work"/
  cp tests/hostile/*.ndjson "$work"/
  seconds=$fuzz_seconds
  [[ $target == upload_fuzz ]] && seconds=$((fuzz_seconds * 2 / 3))
  echo "-- $target for ${seconds}s"
  binary=build-fuzz/ingest/fuzz/$target
  [[ $target == evaluate_fuzz ]] && binary=build-fuzz/tests/fuzz/$target
  $binary -max_total_time="$seconds" -max_len=4096 \
    -print_final_stats=1 "$work" 2>&1 | tail -n 12
  rm -rf "$work"
done
echo "== all tests passed"
echo "tests: $total passed, 0 failed"
