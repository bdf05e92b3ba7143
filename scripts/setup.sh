#!/usr/bin/env bash
# Fresh Debian 12 machine → installed dependencies and a built `infernet` in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build
echo "setup: built build/cli/infernet"
