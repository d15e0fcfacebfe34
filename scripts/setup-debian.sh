#!/usr/bin/env bash
# Installs everything flexwatch needs to build, test and benchmark on Debian bookworm (as root):
# Chromium and the Noto CJK fonts render the HTML announcements in the tests; Prometheus
# (with promtool) and Alertmanager are the real servers the observability tests run against.
# prometheus-cpp is packaged from Debian 13 (trixie) on: its core library comes from there (below).
# Idempotent: packages already present are left alone.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev libsimdjson-dev librdkafka-dev libyaml-cpp-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libxxhash-dev
  libcpp-httplib-dev zlib1g-dev libbrotli-dev libboost1.81-dev
  clang clang-format libclang-rt-14-dev openssl
  default-jre-headless maven
  chromium fonts-noto-cjk
  prometheus prometheus-alertmanager
  jq linux-perf valgrind
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

# prometheus-cpp (the metrics library) is in Debian from trixie on. Its core library (it needs
# nothing newer than bookworm's libc and libstdc++) is installed from trixie, pinned so that no
# other package comes from there; the headers are unpacked from trixie's -dev package into
# /opt/flexwatch-deps, since installing that package would pull trixie's curl for the push
# gateway client, which flexwatch does not use. CMake looks there (server/CMakeLists.txt).
prom_headers=/opt/flexwatch-deps/prometheus-cpp
if ! dpkg-query -W -f='${Status}' libprometheus-cpp-core1.0 2>/dev/null | grep -q "install ok installed" ||
  [[ ! -f $prom_headers/usr/include/prometheus/registry.h ]]; then
  echo "setup: installing prometheus-cpp 1.0 from Debian trixie (core library and headers)"
  cat > /etc/apt/sources.list.d/flexwatch-trixie.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  cat > /etc/apt/preferences.d/flexwatch-trixie <<'PINS'
Package: *
Pin: release n=trixie
Pin-Priority: 1

Package: prometheus-cpp-dev libprometheus-cpp-core1.0
Pin: release n=trixie
Pin-Priority: 500
PINS
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends libprometheus-cpp-core1.0 >/dev/null
  work=$(mktemp -d)
  chown _apt "$work" 2>/dev/null || true  # apt downloads as the _apt user
  (cd "$work" && apt-get download -qq prometheus-cpp-dev >/dev/null)
  rm -rf "$prom_headers"
  mkdir -p "$prom_headers"
  dpkg-deb -x "$work"/prometheus-cpp-dev_*.deb "$prom_headers"
  rm -rf "$work"
fi
