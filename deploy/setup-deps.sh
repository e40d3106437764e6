#!/usr/bin/env bash
# Installs every Debian package that glci's build, tests, demo and benchmarks
# need. Idempotent: when everything is present it asks no package server and
# changes nothing. Run as root (or with sudo available) on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev libsodium-dev
  libprotobuf-c-dev protobuf-c-compiler
  liblmdb-dev lmdb-utils
  libcmocka-dev libinih-dev libjansson-dev libcsv-dev libsystemd-dev
  # reports: charts (Cairo, their text shaped and ordered by Pango with
  # HarfBuzz and FriBidi, in the font the charts and profiles use) and
  # xlsx workbooks; the report tests render pages in Chromium, PDFs with
  # poppler and read workbooks back with openpyxl (Debian's python3)
  libcairo2-dev libpango1.0-dev libfribidi-dev libfontconfig-dev libxlsxwriter-dev
  fonts-dejavu-core
  chromium poppler-utils python3-openpyxl
  # the collector's /metrics and /health; the metrics tests run a real
  # Prometheus and promtool (package prometheus) and curl as the HTTP client
  libmicrohttpd-dev prometheus curl
  clang
  # the fuzz targets (tests/fuzz, GLCI_FUZZ): libFuzzer and clang's
  # sanitizer runtimes, only recommended by clang
  libclang-rt-dev
  # packaging and its checks: dpkg-shlibdeps needs file; the packages need
  # adduser; the tests render man pages and verify the systemd units
  file adduser groff-base systemd
  # deploy/systemd-check.sh: a minimal Debian root booted with systemd-nspawn
  debootstrap systemd-container
  # the network fault tests and the nemesis run: namespaces and veth pairs
  # (ip), partitions, loss and duplication (nft), an agent's clock moved
  # (libfaketime)
  iproute2 nftables faketime
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup-deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
