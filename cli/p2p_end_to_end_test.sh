#!/usr/bin/env bash
# End-to-end test of the P2P node as separate processes on loopback: two provider daemons (one
# bootstraps the DHT, one joins), then the client commands against them: discovery, a direct job
# whose tokens must equal a local run, a model pull that must be byte-identical, clean errors for
# bad input, and graceful shutdown on SIGTERM.
set -euo pipefail
: "${INFERNET:?set INFERNET to the infernet binary}"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
  exit 1
}
expect_error() {  # EXPECTED_TEXT CMD...: must fail and say EXPECTED_TEXT on stderr
  local expected=$1; shift
  if "$@" >"$work/out" 2>"$work/cmd.err"; then fail "expected failure: $*"; fi
  grep -q -- "$expected" "$work/cmd.err" || fail "stderr of '$*' lacks '$expected': $(cat "$work/cmd.err")"
}
# Waits (bounded: 10 s) for a node's ready line.
wait_ready() {
  for _ in $(seq 1 200); do
    grep -q '"event":"ready"' "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "node did not become ready: $1"
}
json_field() { sed -E "s/.*\"$2\":\"?([^\",}]*)\"?.*/\1/" "$1"; }

mkdir -p "$work/a/models" "$work/b/models" "$work/client"
"$INFERNET" model make-test --out "$work/a/models/tiny.gguf" --preset tiny --type Q8_0 2>/dev/null
hash=$("$INFERNET" model info "$work/a/models/tiny.gguf" --json --hash |
       sed -nE 's/.*"blake2b_256": "([0-9a-f]{64})".*/\1/p')
[ ${#hash} -eq 64 ] || fail "no model hash"

# Bad configuration is refused before anything starts, naming the key.
printf '[network]\nlisen = "127.0.0.1:1"\n' >"$work/bad.toml"
expect_error "network.lisen" "$INFERNET" node --config "$work/bad.toml" --home "$work/x"
expect_error "network.listen" "$INFERNET" node --home "$work/x" --listen nonsense

"$INFERNET" node --home "$work/a" --listen 127.0.0.1:0 --dht-listen 127.0.0.1:0 \
  --price-per-mtok-micros 500 >"$work/a.out" 2>"$work/a.err" &
pids+=($!)
wait_ready "$work/a.out"
dht="127.0.0.1:$(json_field "$work/a.out" dht_port)"
"$INFERNET" node --home "$work/b" --listen 127.0.0.1:0 --dht-listen 127.0.0.1:0 \
  --bootstrap "$dht" >"$work/b.out" 2>"$work/b.err" &
pids+=($!)
wait_ready "$work/b.out"
id_a=$(json_field "$work/a.out" node_id)
id_b=$(json_field "$work/b.out" node_id)

# Discovery: both providers, with their real node IDs; only A for the model.
"$INFERNET" providers --home "$work/client" --bootstrap "$dht" --expect 2 --json >"$work/all.jsonl" \
  2>/dev/null
grep -q "\"node_id\":\"$id_a\"" "$work/all.jsonl" || fail "provider A not listed"
grep -q "\"node_id\":\"$id_b\"" "$work/all.jsonl" || fail "provider B not listed"
"$INFERNET" providers --home "$work/client" --bootstrap "$dht" --model "$hash" --json \
  >"$work/model.jsonl" 2>/dev/null
[ "$(wc -l <"$work/model.jsonl")" -eq 1 ] || fail "expected exactly one provider of the model"
grep -q "\"node_id\":\"$id_a\"" "$work/model.jsonl" || fail "provider of the model is not A"

# A direct job: tokens equal a local run of the engine with the same parameters.
printf '%s\n' '{"prompt":"The quick brown fox"}' '{"prompt":"Hello"}' >"$work/inputs.jsonl"
cat >"$work/job.json" <<JOB
{"model": "$hash", "kind": "generate", "inputs": "inputs.jsonl", "max_tokens": 12,
 "temperature": 0.8, "top_k": 40, "seed": 5, "max_price_per_mtok": 1000, "deadline_seconds": 60}
JOB
"$INFERNET" submit "$work/job.json" --home "$work/client" --bootstrap "$dht" \
  --out "$work/results.jsonl" 2>"$work/submit.err" || fail "submit: $(cat "$work/submit.err")"
grep -q "verified result" "$work/submit.err" || fail "submit did not report a verified result"
[ "$(wc -l <"$work/results.jsonl")" -eq 2 ] || fail "expected 2 result lines"
i=0
for prompt in "The quick brown fox" "Hello"; do
  remote=$(sed -n "$((i + 1))p" "$work/results.jsonl" | sed -E 's/.*"tokens":\[([0-9,]*)\].*/\1/')
  local_ids=$("$INFERNET" generate --model "$work/a/models/tiny.gguf" --prompt "$prompt" \
                --max-tokens 12 --temperature 0.8 --top-k 40 --seed 5 --json 2>/dev/null |
              grep -oE '"id":[0-9]+' | cut -d: -f2 | paste -sd, -)
  [ -n "$remote" ] && [ "$remote" = "$local_ids" ] ||
    fail "input $i: provider tokens [$remote] differ from local [$local_ids]"
  grep -q "\"provider\":\"$id_a\"" <(sed -n "$((i + 1))p" "$work/results.jsonl") || fail "wrong provider"
  i=$((i + 1))
done

# A job priced below every provider finds none.
sed 's/"max_price_per_mtok": 1000/"max_price_per_mtok": 10/' "$work/job.json" >"$work/cheap.json"
expect_error "within max_price_per_mtok" "$INFERNET" submit "$work/cheap.json" --home "$work/client" \
  --bootstrap "$dht" --discovery-timeout 2

# Model pull: byte-identical to the original.
"$INFERNET" model pull "$hash" --home "$work/client" --bootstrap "$dht" --dir "$work/pulled" \
  >/dev/null 2>"$work/pull.err" || fail "pull: $(cat "$work/pull.err")"
cmp -s "$work/pulled/$hash.gguf" "$work/a/models/tiny.gguf" || fail "pulled model differs"

# Clean errors for bad input.
expect_error "not found\|cannot" "$INFERNET" submit "$work/missing.json" --home "$work/client" \
  --bootstrap "$dht"
expect_error "bootstrap" "$INFERNET" providers --home "$work/client"
expect_error "64 hex digits" "$INFERNET" model pull abc --home "$work/client" --bootstrap "$dht"
expect_error "64 hex digits" "$INFERNET" providers --home "$work/client" --bootstrap "$dht" --model xyz

# Graceful shutdown: SIGTERM, exit status 0, within 10 s.
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do
  for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && fail "node $pid still running 10 s after SIGTERM"
  wait "$pid" || fail "node $pid exited with status $?"
done
pids=()
grep -q "shutting down" "$work/a.err" || fail "node A did not report shutting down"
echo "p2p end-to-end: all checks passed"
