#!/usr/bin/env bash
# The whole test suite: a warnings-as-errors build with every test, then an ASan/UBSan build that
# runs the unit tests again. Installs missing dependencies first (needs root for that).
# Set INFERNET_TEST_LABEL_EXCLUDE (a ctest -LE regex) to skip labels, e.g. "slow".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)

bash scripts/build.sh build-test -DINFERNET_WERROR=ON
ctest --test-dir build-test --output-on-failure -j"$jobs" --timeout 900 \
  ${INFERNET_TEST_LABEL_EXCLUDE:+-LE "$INFERNET_TEST_LABEL_EXCLUDE"}

bash scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFERNET_WERROR=ON \
  -DINFERNET_SANITIZE=ON -DINFERNET_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit --timeout 900
