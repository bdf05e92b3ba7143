#!/usr/bin/env bash
# Makes the benchmark models (100m and 1b presets; F16, Q8_0, Q4_K) and runs
# infernet_prefill_decode_bench once per model, each in its own process, at 2 threads.
# Usage: bench/run_prefill_decode.sh [BUILD_DIR] [MODEL_DIR] [RESULTS_FILE]
set -euo pipefail
build=${1:-build-rel}
models=${2:-/tmp/infernet-bench-models}
results=${3:-$models/results.jsonl}
mkdir -p "$models"
: >"$results"
# Debian's OpenBLAS 0.3.21 picks AVX2 kernels on Zen 5; the AVX-512 ones are the honest peak.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
for preset in 100m 1b; do
  for type in F16 Q8_0 Q4_K; do
    model="$models/$preset-$type.gguf"
    [ -f "$model" ] || "$build/cli/infernet" model make-test --out "$model" --preset "$preset" --type "$type"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    flock /tmp/infernet-bench.lock "$build/bench/infernet_prefill_decode_bench" \
      --model "$model" --threads 2 --repetitions 2 >>"$results"
  done
done
echo "results in $results" >&2
