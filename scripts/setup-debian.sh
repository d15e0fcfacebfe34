#!/usr/bin/env bash
# Installs everything flexwatch needs to build, test and benchmark on Debian bookworm (as root):
# Chromium and the Noto CJK fonts render the HTML announcements in the tests; Prometheus
# (with promtool) and Alertmanager are the real servers the observability tests run against.
# prometheus-cpp is packaged from Debian 13 (trixie) on: its core library comes from there (below).
# librdkafka is built from trixie's source package (below): bookworm's cannot log in to Kafka 4.
# Idempotent: packages already present are left alone.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git
  librocksdb-dev libsimdjson-dev libyaml-cpp-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libxxhash-dev libzstd-dev liblz4-dev
  libcpp-httplib-dev zlib1g-dev libbrotli-dev libboost1.81-dev
  clang clang-format libclang-rt-14-dev openssl
  default-jre-headless maven
  chromium fonts-noto-cjk
  prometheus prometheus-alertmanager
  jq linux-perf valgrind bc time curl ca-certificates python3-venv
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

# Debian trixie's archive, pinned so that nothing comes from it unless named here; its source
# packages too, for librdkafka.
trixie_sources=/etc/apt/sources.list.d/flexwatch-trixie.sources
if ! grep -q deb-src "$trixie_sources" 2>/dev/null; then
  cat > "$trixie_sources" <<'SOURCES'
Types: deb deb-src
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
  apt-get update -qq
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

# librdkafka (the Kafka client) 2.6.1 or later: bookworm's 2.0.2 answers a SASL/SCRAM challenge
# with a nonce that Kafka 4 brokers refuse (librdkafka#4895), so it cannot log in to a cluster
# secured as docs/operations.md says. Built from trixie's source package (apt checks it against
# the archive's signed index) into /opt/flexwatch-deps/librdkafka, which CMake looks in first;
# without GSSAPI (Kerberos) or the HTTP client, which flexwatch does not use.
rdkafka_version=2.8.0
rdkafka_prefix=/opt/flexwatch-deps/librdkafka
if ! grep -qx "Version: $rdkafka_version" "$rdkafka_prefix/lib/pkgconfig/rdkafka.pc" 2>/dev/null; then
  echo "setup: building librdkafka $rdkafka_version from Debian trixie's source package"
  work=$(mktemp -d)
  chown _apt "$work" 2>/dev/null || true
  (cd "$work" && apt-get source -qq --download-only "librdkafka=$rdkafka_version-1" >/dev/null)
  tar -xzf "$work/librdkafka_$rdkafka_version.orig.tar.gz" -C "$work"
  (cd "$work/librdkafka-$rdkafka_version" &&
    ./configure --prefix="$rdkafka_prefix" --disable-debug-symbols --enable-ssl --enable-zstd \
      --enable-lz4-ext --disable-gssapi --disable-curl >"$work/configure.log" 2>&1 &&
    make -j"$(nproc)" libs >"$work/make.log" 2>&1 && make -C src install >"$work/install.log" 2>&1) ||
    { tail -n 30 "$work"/*.log >&2; exit 1; }
  rm -rf "$work"
fi

# The test tools made by others, from PyPI by name and pinned, in a virtual environment of their
# own (/opt/flexwatch-deps/pytools): schemathesis (property-based tests of the self-check API,
# driven by its OpenAPI document) and openapi-spec-validator (the document itself). axe-core,
# Deque's accessibility engine that the browser test runs inside headless Chromium on each
# announcement page, comes as the axe-playwright-python wheel ships it: its axe.min.js, checked
# against its SHA-256, kept in /opt/flexwatch-deps/axe-core (no Node.js needed).
py_dir=/opt/flexwatch-deps/pytools
py_tools="schemathesis==4.32.5 openapi-spec-validator==0.9.0"
if ! grep -qx "$py_tools" "$py_dir/TOOLS" 2>/dev/null; then
  echo "setup: installing $py_tools from PyPI"
  /usr/bin/python3 -m venv --clear "$py_dir"
  # shellcheck disable=SC2086 # one argument per requirement
  "$py_dir/bin/pip" install -q --disable-pip-version-check $py_tools
  echo "$py_tools" >"$py_dir/TOOLS"
fi
axe_wheel=axe-playwright-python==0.1.8  # ships axe-core 4.12.1
axe_sha256=84494fec757e4710dc751c8d7a636e457f4532f08f85c86dc9070133fbff53bc
axe_dir=/opt/flexwatch-deps/axe-core
if ! grep -qx "$axe_wheel" "$axe_dir/VERSION" 2>/dev/null; then
  echo "setup: fetching axe-core from $axe_wheel (PyPI)"
  work=$(mktemp -d)
  "$py_dir/bin/pip" download -q --disable-pip-version-check --no-deps -d "$work" "$axe_wheel"
  "$py_dir/bin/python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(
      "axe_playwright_python/axe.min.js", sys.argv[2])' "$work"/*.whl "$work"
  echo "$axe_sha256  $work/axe_playwright_python/axe.min.js" | sha256sum -c --quiet
  mkdir -p "$axe_dir"
  install -m 0644 "$work/axe_playwright_python/axe.min.js" "$axe_dir/axe.min.js"
  echo "$axe_wheel" >"$axe_dir/VERSION"
  rm -rf "$work"
fi
