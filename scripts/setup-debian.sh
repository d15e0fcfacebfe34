#!/usr/bin/env bash
# Installs everything flexwatch needs to build, test and benchmark on Debian bookworm (as root):
# Chromium and the Noto CJK fonts render the HTML announcements in the tests.
# Idempotent: packages already present are left alone.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev libsimdjson-dev librdkafka-dev libyaml-cpp-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libxxhash-dev
  clang clang-format libclang-rt-14-dev
  default-jre-headless maven
  chromium fonts-noto-cjk
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
