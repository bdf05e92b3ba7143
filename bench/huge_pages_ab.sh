#!/usr/bin/env bash
# A/B of the weights' page size in decode: each round copies every model with 4 KiB writes (so its
# page cache starts in 4 KiB folios, as a file written by a small-buffered tool does), then
# alternates the bench with --no-huge-pages (plain mmap, the mapping before huge pages) and the
# default (2 MiB-aligned huge-page mapping, re-cached when the cache is in small folios).
# Usage: bench/huge_pages_ab.sh BUILD_DIR MODEL_DIR ROUNDS [MODEL...]   (models as NAME.gguf names)
set -euo pipefail
build=${1:?build dir}
models_dir=${2:?model dir}
rounds=${3:-3}
shift 3 || true
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(1b-Q4_K 100m-Q4_K)
bench="$build/bench/infernet_prefill_decode_bench"
copy="$models_dir/ab-copy.gguf"
trap 'rm -f "$copy"' EXIT
for round in $(seq "$rounds"); do
  for model in "${models[@]}"; do
    case $model in 100m-*) tokens=600 ;; *) tokens=200 ;; esac
    for mode in 4k huge; do
      dd if="$models_dir/$model.gguf" of="$copy" bs=4096 status=none
      flag=()
      [ "$mode" = 4k ] && flag=(--no-huge-pages)
      line=$("$bench" --model "$copy" "${flag[@]}" --threads 2 --prompt-tokens 16 \
        --decode-tokens "$tokens" --repetitions 1 --skip-limits 2>/dev/null)
      decode=$(grep -o '"decode_tok_s":[0-9.]*' <<<"$line" | cut -d: -f2)
      huge=$(grep -o '"huge_page_bytes":[0-9]*' <<<"$line" | cut -d: -f2)
      echo "round $round $model $mode decode_tok_s $decode huge_page_MiB $((huge >> 20))"
    done
  done
done
