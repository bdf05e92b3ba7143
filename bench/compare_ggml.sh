#!/usr/bin/env bash
# Runs ggml's CPU MUL_MAT perf cases and infernet_matmul_bench on the same shapes and thread
# count, back to back and alternating (ours, ggml, ours, ggml, ...) so that machine noise shows up
# as a spread rather than as a bias, then prints a side-by-side table.
#
# Usage: GGML_BIN=/path/to/test-backend-ops bench/compare_ggml.sh [path/to/infernet_matmul_bench]
#   GGML_BIN  ggml's test-backend-ops, built outside this repository (docs/benchmarks.md says how);
#             this script never builds or fetches ggml.
#   ROUNDS    alternations (default 2).  LOG_DIR  where raw outputs go (default: a new /tmp dir).
#   LOCK      flock file serialising benchmarks on a shared machine (default /tmp/infernet-bench.lock).
#
# Figures: GFLOPS = 2*m*n*k / seconds per product. ggml reports the mean over its repetitions, so
# the ratio column uses our mean as well; "ours best" is our fastest single call.
set -euo pipefail

: "${GGML_BIN:?set GGML_BIN to the path of test-backend-ops}"
ours=${1:-build-bench/bench/infernet_matmul_bench}
rounds=${ROUNDS:-2}
lock=${LOCK:-/tmp/infernet-bench.lock}
log_dir=${LOG_DIR:-$(mktemp -d /tmp/compare_ggml.XXXXXX)}
mkdir -p "$log_dir"
[ -x "$GGML_BIN" ] || { echo "GGML_BIN=$GGML_BIN is not executable" >&2; exit 2; }
[ -x "$ours" ] || { echo "$ours is not executable (build infernet_matmul_bench)" >&2; exit 2; }

# test-backend-ops has no thread flag: its CPU backend uses std::thread::hardware_concurrency(),
# the number of online CPUs; our bench is given the same.
threads=$(getconf _NPROCESSORS_ONLN)
ggml_filter='type_a=(f16|bf16|q8_0|q4_0|q4_K|q6_K),type_b=f32,m=4096,n=(1|512),k=14336'
# shellcheck disable=SC2054  # the commas are inside flag values
ours_args=(--threads="$threads" --min-seconds=1 --types=f16,bf16,q8_0,q4_0,q4_k,q6_k --n=1,512
           --m=4096 --k=14336)

results="$log_dir/results.tsv"  # engine round type n mean_gflops best_gflops
: >"$results"
loads="$log_dir/loads.txt"
: >"$loads"

note_load() { echo "$1 $(date -u +%FT%TZ) $(uptime | sed 's/.*load average/load average/')" \
  | tee -a "$loads" >&2; }

run_ours() {
  local round=$1 out="$log_dir/ours_$1.jsonl"
  note_load "before ours round $round"
  "$ours" "${ours_args[@]}" >"$out"
  note_load "after  ours round $round"
  sed -n 's/.*"type":"\([^"]*\)".*"n":\([0-9]*\),.*"gflops":\([0-9.]*\).*"mean_gflops":\([0-9.]*\).*/\1 \2 \4 \3/p' \
    "$out" | awk -v r="$round" '{ printf "ours\t%s\t%s\t%s\t%s\t%s\n", r, tolower($1), $2, $3, $4 }' \
    >>"$results"
}

run_ggml() {
  local round=$1 out="$log_dir/ggml_$1.txt"
  note_load "before ggml round $round"
  "$GGML_BIN" perf -o MUL_MAT -b CPU -p "$ggml_filter" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$out"
  note_load "after  ggml round $round"
  grep 'MUL_MAT(' "$out" \
    | sed -n 's/.*type_a=\([^,]*\),.*,n=\([0-9]*\),.* \([0-9.]*\) GFLOPS.*/\1 \2 \3/p' \
    | awk -v r="$round" '{ printf "ggml\t%s\t%s\t%s\t%s\t%s\n", r, tolower($1), $2, $3, $3 }' \
      >>"$results"
}

{
  flock 9
  echo "threads=$threads ours=$ours ggml=$GGML_BIN logs=$log_dir" >&2
  for ((r = 1; r <= rounds; r++)); do
    run_ours "$r"
    run_ggml "$r"
  done
} 9>"$lock"

# One row per (type, n): each round's mean GFLOPS for both, our best call, and ours/ggml computed
# from the best round of each (the least disturbed), plus the range over same-round pairs.
awk -F'\t' -v rounds="$rounds" '
  { key = $3 " " $4; keys[key] = 1; mean[$1, key, $2] = $5
    if ($1 == "ours" && $6 > best[key]) best[key] = $6 }
  END {
    printf "%-5s %4s |", "type", "n"
    for (r = 1; r <= rounds; r++) printf " ours_%d", r
    printf " ours_best |"
    for (r = 1; r <= rounds; r++) printf " ggml_%d", r
    printf " | ratio  pair_ratios\n"
    split("f16 bf16 q8_0 q4_0 q4_k q6_k", type_order, " ")
    for (t = 1; t <= 6; t++) for (nn = 1; nn <= 2; nn++) {
      key = type_order[t] " " (nn == 1 ? 1 : 512)
      if (!(key in keys)) continue
      split(key, parts, " ")
      printf "%-5s %4s |", parts[1], parts[2]
      o = 0; g = 0; lo = 1e9; hi = 0
      for (r = 1; r <= rounds; r++) {
        v = mean["ours", key, r]; printf " %6.1f", v; if (v > o) o = v
      }
      printf " %9.1f |", best[key]
      for (r = 1; r <= rounds; r++) {
        v = mean["ggml", key, r]; printf " %6.1f", v; if (v > g) g = v
        if (v > 0) { p = mean["ours", key, r] / v; if (p < lo) lo = p; if (p > hi) hi = p }
      }
      printf " | %5.2f  %.2f-%.2f\n", (g > 0 ? o / g : 0), lo, hi
    }
  }' "$results" | tee "$log_dir/table.txt"
echo "raw outputs and load averages: $log_dir" >&2
