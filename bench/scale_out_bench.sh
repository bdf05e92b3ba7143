#!/usr/bin/env bash
# Scale-out: the same CPU-bound engine job (native runtime) through an aggregator on 1, 2, 4 and 8
# providers, each provider on its own host (network namespace, veth on a bridge) and in its own
# CPU cgroup with the same quota ("equal CPU shares": 8 x 20 % = 1.6 cores fits this 2-core
# machine next to the aggregator and client). Efficiency(N) = T(1) / (N x T(N)).
# Every round starts a fresh network (bootstrap node, aggregator, N providers) so that no
# provider of an earlier round is still listed. Needs root (namespaces, cgroup v1 cpu controller).
#
#   bench/scale_out_bench.sh [--infernet BIN] [--counts "1 2 4 8"] [--quota-percent 20]
#                            [--model FILE] [--prompts 48] [--max-tokens 12] [--shard-ms 500]
# Prints one JSON line per round and a summary table on stderr.
set -euo pipefail
infernet=${INFERNET:-$PWD/build-bench/cli/infernet}
counts="1 2 4 8"
quota=20
model=""
prompts=48
max_tokens=12
shard_ms=500
while [ $# -gt 0 ]; do
  case $1 in
    --infernet) infernet=$2; shift 2 ;;
    --counts) counts=$2; shift 2 ;;
    --quota-percent) quota=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --prompts) prompts=$2; shift 2 ;;
    --max-tokens) max_tokens=$2; shift 2 ;;
    --shard-ms) shard_ms=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "scale_out_bench: needs root" >&2; exit 1; }
cg=/sys/fs/cgroup/cpu
[ -w "$cg" ] || { echo "scale_out_bench: no writable cgroup v1 cpu controller at $cg" >&2; exit 1; }
tag="sc$$"
work=$(mktemp -d)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_all
  for ns in $(ip netns list | awk '{print $1}' | grep "^$tag" || true); do ip netns del "$ns"; done
  for d in "$cg/$tag"/p*; do [ -d "$d" ] && rmdir "$d"; done
  [ -d "$cg/$tag" ] && rmdir "$cg/$tag"
  rm -rf "$work"
}
trap cleanup EXIT
wait_ready() {
  for _ in $(seq 1 600); do grep -q '"event":"ready"' "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "node did not become ready: $1" >&2; cat "${1%.out}.err" >&2; exit 1
}
json_field() { sed -E "s/.*\"$2\":\"?([^\",}]*)\"?.*/\1/" "$1"; }

# Hosts: "hub" (bootstrap node, aggregator, client) and p1..p8, on a bridge in namespace "s".
ip netns add "${tag}s"
ip -n "${tag}s" link add br0 type bridge
ip -n "${tag}s" link set br0 up
add_host() {  # NAME ADDRESS
  ip netns add "$tag$1"
  ip link add eth0 netns "$tag$1" type veth peer name "port$1" netns "${tag}s"
  ip -n "${tag}s" link set "port$1" master br0 up
  ip -n "$tag$1" addr add "$2/24" dev eth0
  ip -n "$tag$1" link set eth0 up
  ip -n "$tag$1" link set lo up
}
add_host hub 10.78.0.1
for i in 1 2 3 4 5 6 7 8; do add_host "p$i" "10.78.0.$((10 + i))"; done
mkdir -p "$cg/$tag"
for i in 1 2 3 4 5 6 7 8; do
  mkdir -p "$cg/$tag/p$i"
  echo 100000 >"$cg/$tag/p$i/cpu.cfs_period_us"
  echo $((quota * 1000)) >"$cg/$tag/p$i/cpu.cfs_quota_us"
done

if [ -z "$model" ]; then
  model="$work/model.gguf"
  "$infernet" model make-test --out "$model" --preset 100m --type Q4_K >/dev/null 2>&1
fi
hash=$("$infernet" model info "$model" --json --hash | sed -nE 's/.*"blake2b_256": "([0-9a-f]{64})".*/\1/p')
for i in $(seq 1 "$prompts"); do echo "{\"prompt\":\"Scale-out prompt number $i: once upon a time\"}"; done \
  >"$work/inputs.jsonl"
cat >"$work/job.json" <<JOB
{"model": "$hash", "kind": "generate", "inputs": "inputs.jsonl", "max_tokens": $max_tokens,
 "seed": 1, "max_price_per_mtok": 100000, "deadline_seconds": 3600}
JOB

declare -A seconds
for n in $counts; do
  round="$work/round$n"
  mkdir -p "$round"
  ip netns exec "${tag}hub" "$infernet" node --roles bootstrap --home "$round/boot" \
    --dht-listen 10.78.0.1:0 >"$round/boot.out" 2>"$round/boot.err" &
  pids+=($!)
  wait_ready "$round/boot.out"
  dht="10.78.0.1:$(json_field "$round/boot.out" dht_port)"
  for i in $(seq 1 "$n"); do
    mkdir -p "$round/p$i/models"
    ln -f "$model" "$round/p$i/models/model.gguf" 2>/dev/null || cp "$model" "$round/p$i/models/model.gguf"
    # Into the provider's cgroup first (`ip netns exec` remounts /sys, hiding the cgroup files),
    # then exec into the namespace and the node: every thread it starts is inside the cgroup.
    bash -c "echo \$\$ >$cg/$tag/p$i/cgroup.procs && exec ip netns exec ${tag}p$i \"$infernet\" \
      node --home $round/p$i --listen 10.78.0.$((10 + i)):7700 --dht-listen 10.78.0.$((10 + i)):0 \
      --bootstrap $dht --threads 1 --max-concurrent 1 --max-queue 8" \
      >"$round/p$i.out" 2>"$round/p$i.err" &
    pids+=($!)
  done
  for i in $(seq 1 "$n"); do wait_ready "$round/p$i.out"; done
  ip netns exec "${tag}hub" "$infernet" node --roles aggregator --home "$round/agg" \
    --listen 10.78.0.1:0 --dht-listen 10.78.0.1:0 --bootstrap "$dht" --target-shard-ms "$shard_ms" \
    >"$round/agg.out" 2>"$round/agg.err" &
  pids+=($!)
  wait_ready "$round/agg.out"
  agg="$(json_field "$round/agg.out" node_id)@$(json_field "$round/agg.out" grpc)"
  ip netns exec "${tag}hub" "$infernet" providers --home "$round/client" --bootstrap "$dht" \
    --model "$hash" --expect "$n" >/dev/null 2>&1
  start=$(date +%s.%N)
  ip netns exec "${tag}hub" "$infernet" submit "$work/job.json" --home "$round/client" \
    --aggregator "$agg" --out "$round/results.jsonl" 2>"$round/submit.err" >/dev/null ||
    { echo "round $n failed:" >&2; cat "$round/submit.err" >&2; exit 1; }
  end=$(date +%s.%N)
  seconds[$n]=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}')
  shards=$(sed -nE 's/.* in ([0-9]+) shards.*/\1/p' "$round/submit.err")
  used=$(awk '/provider +shards/ {f=1; next} f && NF == 4 {c++} END {print c + 0}' "$round/submit.err")
  echo "{\"providers\": $n, \"seconds\": ${seconds[$n]}, \"shards\": ${shards:-0}, \"providers_used\": $used, \"quota_percent\": $quota, \"prompts\": $prompts, \"max_tokens\": $max_tokens}"
  stop_all
done
first=$(echo $counts | awk '{print $1}')
{
  echo "providers  seconds  efficiency"
  for n in $counts; do
    awk -v n="$n" -v t="${seconds[$n]}" -v f="$first" -v t1="${seconds[$first]}" \
      'BEGIN {printf "%9d  %7.2f  %9.1f %%\n", n, t, 100 * t1 * f / (n * t)}'
  done
} >&2
