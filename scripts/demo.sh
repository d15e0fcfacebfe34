#!/usr/bin/env bash
# The main job on the embedded default: install, build, then generate a feed, send it through the
# embedded Kafka broker into the monitor's durable state, announce each month and show the
# verdict. No external service is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target flexwatch
build/flexwatch demo "$@"
