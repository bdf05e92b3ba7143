#!/usr/bin/env bash
# The demo: a local network of two provider nodes on loopback (separate processes) and a client
# that finds them through the DHT, runs a generation job on one over TLS, verifies the signed
# result, and pulls the model by content hash. Models have random weights (no model hub is
# reachable from build machines): the text is gibberish, but the tokens are reproducible.
# (scripts/demo.sh runs the aggregator devnet demo.)
set -euo pipefail
cd "$(dirname "$0")/.."
infernet=${INFERNET:-$PWD/build/cli/infernet}
demo=$(mktemp -d /tmp/infernet-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$demo"
}
trap cleanup EXIT

wait_ready() {  # FILE: the node's stdout; prints its ready line
  for _ in $(seq 1 100); do
    if grep -q '"event":"ready"' "$1" 2>/dev/null; then head -1 "$1"; return 0; fi
    sleep 0.1
  done
  echo "demo: node did not become ready; its log:" >&2; cat "${1%.out}.err" >&2; return 1
}

echo "=== 1. a small model (llama architecture, Q8_0) for provider A"
mkdir -p "$demo/a/models" "$demo/b/models" "$demo/client"
"$infernet" model make-test --out "$demo/a/models/tiny.gguf" --preset tiny --arch llama --type Q8_0
hash=$("$infernet" model info "$demo/a/models/tiny.gguf" --hash | awk '/blake2b/ {print $NF}')
echo "model content hash: $hash"

echo "=== 2. two provider nodes (A bootstraps the DHT, B joins through A)"
"$infernet" node --home "$demo/a" --listen 127.0.0.1:0 --dht-listen 127.0.0.1:0 \
  --price-per-mtok-micros 500 >"$demo/a.out" 2>"$demo/a.err" &
pids+=($!)
wait_ready "$demo/a.out"
dht_port=$(sed -E 's/.*"dht_port":([0-9]+).*/\1/' "$demo/a.out")
"$infernet" node --home "$demo/b" --listen 127.0.0.1:0 --dht-listen 127.0.0.1:0 \
  --bootstrap "127.0.0.1:$dht_port" --price-per-mtok-micros 800 --pull-missing-models true \
  >"$demo/b.out" 2>"$demo/b.err" &
pids+=($!)
wait_ready "$demo/b.out"

echo "=== 3. what the network offers (signed node records from the DHT)"
"$infernet" providers --home "$demo/client" --bootstrap "127.0.0.1:$dht_port" --expect 2

echo "=== 4. a direct job: 3 prompts on the cheapest provider holding the model"
printf '%s\n' '{"prompt":"The quick brown fox"}' '{"prompt":"Peer-to-peer inference"}' \
  '{"prompt":"Hello, world"}' >"$demo/inputs.jsonl"
cat >"$demo/job.json" <<JOB
{"model": "$hash", "kind": "generate", "inputs": "inputs.jsonl", "max_tokens": 16,
 "temperature": 0.8, "top_p": 0.95, "seed": 42, "max_price_per_mtok": 1000, "deadline_seconds": 60}
JOB
"$infernet" submit "$demo/job.json" --home "$demo/client" --bootstrap "127.0.0.1:$dht_port" \
  --out "$demo/results.jsonl"
echo "results (text, provider, result hash):"
sed -E 's/.*"text":"([^"]*)".*"provider":"(.{16}).*"result_hash":"(.{16}).*/  \1  | \2… | \3…/' \
  "$demo/results.jsonl"

echo "=== 5. the same model pulled by content hash, every chunk verified"
"$infernet" model pull "$hash" --home "$demo/client" --bootstrap "127.0.0.1:$dht_port" \
  --dir "$demo/client/models"
echo "=== demo done: stopping the nodes"
