#!/usr/bin/env bash
# Makes the benchmark models (100m and 1b presets; F16, Q8_0, Q4_K; existing files are kept) and
# runs infernet_prefill_decode_bench once per model, each in its own process, at 2 threads, under
# flock so that no other benchmark shares the cores. Appends one JSON line per model to
# RESULTS_FILE and prints a summary table: decode against the paired readings taken around its
# segments of at least 1 s ("paired_GB/s", "ceiling", "%"; the target) and against the larger of the
# readings before and after the whole run ("outer_GB/s", "outer%"). Decode runs 3 times from the
# same prompt, each between its own readings; the best is kept ("decode_tok/s" onwards) and
# "reps%" lists all three fractions.
# Usage: bench/run_prefill_decode.sh [BUILD_DIR] [MODEL_DIR] [RESULTS_FILE]
# env: PRESETS ("100m 1b"), TYPES ("F16 Q8_0 Q4_K"), LOCK (/tmp/infernet-bench.lock)
set -euo pipefail
build=${1:-build-bench}
models=${2:-/tmp/infernet-bench-models}
results=${3:-$models/results.jsonl}
lock=${LOCK:-/tmp/infernet-bench.lock}
mkdir -p "$models"
# The benchmark picks OpenBLAS's AVX-512 kernels for its SGEMM reference by itself; an
# OPENBLAS_CORETYPE set here would override that choice.
for preset in ${PRESETS:-100m 1b}; do
  for type in ${TYPES:-F16 Q8_0 Q4_K}; do
    model="$models/$preset-$type.gguf"
    [ -f "$model" ] || "$build/cli/infernet" model make-test --out "$model" --preset "$preset" --type "$type"
    echo "$(date -u +%FT%TZ) $preset-$type, load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    flock "$lock" "$build/bench/infernet_prefill_decode_bench" \
      --model "$model" --threads 2 --prompt-tokens 512 --decode-tokens 128 --repetitions 3 \
      --decode-repetitions 3 >>"$results"
  done
done
echo "results in $results" >&2
if command -v jq >/dev/null; then
  jq -r '[(.model | split("/") | last), .type, (.params / 1e6 | round), (.weight_bytes / 1048576 | round),
          .prefill_tok_s, .prefill_gflop_s, .sgemm_gflop_s, (.prefill_fraction_of_sgemm * 100 | round),
          .decode_tok_s, ((.segment_read_gb_s | min | tostring) + "-" + (.segment_read_gb_s | max | tostring)),
          (.decode_ceiling_tok_s * 10 | round / 10), (.decode_fraction_of_ceiling * 100 | round),
          ((.repetition_percent_of_ceiling // []) | map(round | tostring) | join("/") | if . == "" then "-" else . end),
          .read_gb_s, (.outer_fraction_of_ceiling * 100 | round), (.peak_rss_bytes / 1048576 | round),
          (.rss_limit_bytes / 1048576 | round), .rss_within_limit, .load_avg_start, .load_avg_end]
         | @tsv' "$results" |
    column -t -N model,type,Mparams,MiB,prefill_tok/s,GFLOP/s,SGEMM,%,decode_tok/s,paired_GB/s,ceiling,%,reps%,outer_GB/s,outer%,RSS_MiB,limit_MiB,rss_ok,load0,load1 >&2
fi
