#!/usr/bin/env bash
# Fault tests of multi-provider jobs, as separate processes on loopback: a bootstrap node, an
# aggregator and simulated-runtime providers (time per token, no computing: the coordination
# layer is under test here, not the engine).
#   A. a provider killed mid-job, one stalled (SIGSTOP), one failing every task: the job
#      completes, every output verified, retries reported;
#   B. the aggregator killed (SIGKILL) mid-job and restarted on the same state: the client
#      re-attaches, the job completes, and the restarted aggregator resumed with shards done;
#   C. not enough capacity left: the job fails by its deadline with a report of what finished.
set -euo pipefail
: "${INFERNET:?set INFERNET to the infernet binary}"
work=$(mktemp -d)
pids=()
cleanup() {
  exec 2>/dev/null  # no "Killed" job notices for the nodes stopped here
  for pid in "${pids[@]}"; do kill -CONT "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; tail -8 "$f" >&2; }; done
  exit 1
}
wait_ready() {  # FILE: bounded (20 s) wait for a node's ready line
  for _ in $(seq 1 400); do
    grep -q '"event":"ready"' "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "node did not become ready: $1"
}
wait_for_text() {  # FILE TEXT SECONDS: bounded wait for TEXT to appear in FILE
  for _ in $(seq 1 $(($3 * 20))); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "'$2' did not appear in $1 within $3 s"
}
json_field() { sed -E "s/.*\"$2\":\"?([^\",}]*)\"?.*/\1/" "$1"; }

"$INFERNET" model make-test --out "$work/model.gguf" --preset tiny --type Q8_0 2>/dev/null
hash=$("$INFERNET" model info "$work/model.gguf" --json --hash |
       sed -nE 's/.*"blake2b_256": "([0-9a-f]{64})".*/\1/p')
[ ${#hash} -eq 64 ] || fail "no model hash"

"$INFERNET" node --roles bootstrap --home "$work/boot" --dht-listen 127.0.0.1:0 \
  >"$work/boot.out" 2>"$work/boot.err" &
pids+=($!)
wait_ready "$work/boot.out"
dht="127.0.0.1:$(json_field "$work/boot.out" dht_port)"

start_provider() {  # NAME EXTRA_FLAGS...
  local name=$1; shift
  mkdir -p "$work/$name/models"
  ln -f "$work/model.gguf" "$work/$name/models/model.gguf"
  "$INFERNET" node --home "$work/$name" --listen 127.0.0.1:0 --dht-listen 127.0.0.1:0 \
    --bootstrap "$dht" --runtime simulated --simulated-us-per-token 2000 --max-concurrent 1 \
    --record-ttl-seconds 30 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  eval "pid_$name=$!"
  wait_ready "$work/$name.out"
}
start_provider p1
start_provider p2
start_provider p3
start_provider p4
start_provider bad --simulated-fail-tasks true

start_aggregator() {  # LISTEN
  "$INFERNET" node --roles aggregator --home "$work/agg" --listen "$1" --dht-listen 127.0.0.1:0 \
    --bootstrap "$dht" --target-shard-ms 300 --max-attempts 6 \
    >"$work/agg.out" 2>>"$work/agg.err" &
  pid_agg=$!
  pids+=($pid_agg)
  wait_ready "$work/agg.out"
}
start_aggregator 127.0.0.1:0
agg="$(json_field "$work/agg.out" node_id)@$(json_field "$work/agg.out" grpc)"
"$INFERNET" providers --home "$work/client" --bootstrap "$dht" --model "$hash" --expect 5 \
  >/dev/null 2>&1 || fail "providers not discoverable"

make_job() {  # NAME INPUTS MAX_TOKENS DEADLINE_S
  for i in $(seq 1 "$2"); do echo "{\"prompt\":\"prompt $i of job $1\"}"; done >"$work/$1.jsonl"
  cat >"$work/$1.json" <<JOB
{"model": "$hash", "kind": "generate", "inputs": "$1.jsonl", "max_tokens": $3, "seed": 7,
 "max_price_per_mtok": 100000, "deadline_seconds": $4}
JOB
}

# --- A. killed, stalled and failing providers. (Progress lines start at 0 verified: wait for
# at least one verified shard, so the faults land mid-job.)
make_job a 40 25 120
"$INFERNET" submit "$work/a.json" --home "$work/client" --aggregator "$agg" --out "$work/a.out.jsonl" \
  >/dev/null 2>"$work/submit_a.err" &
submit=$!
wait_for_text "$work/submit_a.err" "[1-9][0-9]*/40 inputs verified" 30
kill -KILL "$pid_p1"
kill -STOP "$pid_p2"
wait "$submit" || fail "job A did not complete: $(tail -3 "$work/submit_a.err")"
kill -CONT "$pid_p2"
[ "$(wc -l <"$work/a.out.jsonl")" -eq 40 ] || fail "job A: $(wc -l <"$work/a.out.jsonl") results, not 40"
for i in $(seq 0 39); do
  sed -n "$((i + 1))p" "$work/a.out.jsonl" | grep -q "\"index\":$i," || fail "job A: line $((i + 1)) is not input $i"
done
grep -q "job complete: 40/40" "$work/submit_a.err" || fail "job A summary: $(cat "$work/submit_a.err")"
retries=$(sed -nE 's/.* ([0-9]+) retries, .*/\1/p' "$work/submit_a.err" | tail -1)
[ "${retries:-0}" -gt 0 ] || fail "job A reports no retries: $(grep 'job complete' "$work/submit_a.err")"
echo "A: provider killed + stalled + failing: complete, $retries retries"

# --- B. the aggregator killed mid-job and restarted on the same state and address.
agg_listen=$(json_field "$work/agg.out" grpc)
make_job b 60 25 180
"$INFERNET" submit "$work/b.json" --home "$work/client" --aggregator "$agg" --out "$work/b.out.jsonl" \
  >/dev/null 2>"$work/submit_b.err" &
submit=$!
wait_for_text "$work/submit_b.err" "[1-9][0-9]*/60 inputs verified" 30
kill -KILL "$pid_agg"
wait "$pid_agg" 2>/dev/null || true
start_aggregator "$agg_listen"
wait "$submit" || fail "job B did not complete after the restart: $(tail -3 "$work/submit_b.err")"
[ "$(wc -l <"$work/b.out.jsonl")" -eq 60 ] || fail "job B: $(wc -l <"$work/b.out.jsonl") results, not 60"
grep -q "re-attached" "$work/submit_b.err" || fail "job B: the client never re-attached"
resumed=$(sed -nE 's/.*resuming job [0-9a-f]+ \(([0-9]+) of 60 inputs already done\).*/\1/p' "$work/agg.err" | tail -1)
[ "${resumed:-0}" -gt 0 ] || fail "the restarted aggregator did not resume with stored shards"
echo "B: aggregator killed and restarted: complete, resumed with $resumed of 60 inputs done"

# --- C. not enough capacity: every honest provider gone; the job fails by its deadline.
kill -KILL "$pid_p2" "$pid_p3" "$pid_p4"
make_job c 20 25 8
if "$INFERNET" submit "$work/c.json" --home "$work/client" --aggregator "$agg" \
     --out "$work/c.out.jsonl" >/dev/null 2>"$work/submit_c.err"; then
  fail "job C completed without capacity"
fi
grep -q "job INCOMPLETE" "$work/submit_c.err" || fail "job C: no incomplete summary: $(cat "$work/submit_c.err")"
grep -q "why:" "$work/submit_c.err" || fail "job C: no reason given"
echo "C: no capacity: $(grep 'why:' "$work/submit_c.err")"
echo "PASS"
