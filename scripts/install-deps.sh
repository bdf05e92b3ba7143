#!/usr/bin/env bash
# Installs the Debian 12 packages Infernet needs to build and test. Run as root.
# Skips apt entirely when everything is already installed (fast re-runs, offline machines).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang
  libsodium-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libopenblas-dev
  libssl-dev libopendht-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libtomlplusplus-dev libsqlite3-dev iproute2 bubblewrap
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
