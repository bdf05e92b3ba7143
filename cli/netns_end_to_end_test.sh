#!/usr/bin/env bash
# Three hosts in network namespaces joined by veth pairs on a bridge (in a fourth namespace; the
# root namespace's interfaces and routes are never touched), addresses 10.77.0.0/24 only inside
# them: provider A (DHT bootstrap, holds a model) on host a, provider B on host b, the client
# commands on host c. Needs root and `ip netns`; exits 77 (skipped) otherwise.
set -euo pipefail
: "${INFERNET:?set INFERNET to the infernet binary}"
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
  echo "netns test skipped: needs root and iproute2"; exit 77
fi
tag="inf$$"
if ! ip netns add "${tag}s" 2>/dev/null; then echo "netns test skipped: cannot create namespaces"; exit 77; fi
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in a b c s; do ip netns del "$tag$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.err; do [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }; done
  exit 1
}
# Runs a command on a host. (Daemons are started with `ip netns exec` directly, not through this
# function, so that $! is the daemon's own PID: ip execs into it.)
on() { local host=$1; shift; ip netns exec "$tag$host" "$@"; }
wait_ready() {
  for _ in $(seq 1 200); do grep -q '"event":"ready"' "$1" 2>/dev/null && return 0; sleep 0.05; done
  fail "node did not become ready: $1"
}
json_field() { sed -E "s/.*\"$2\":\"?([^\",}]*)\"?.*/\1/" "$1"; }

ip -n "${tag}s" link add br0 type bridge
ip -n "${tag}s" link set br0 up
i=1
for host in a b c; do
  ip netns add "$tag$host"
  ip link add "eth0" netns "$tag$host" type veth peer name "port$host" netns "${tag}s"
  ip -n "${tag}s" link set "port$host" master br0 up
  ip -n "$tag$host" addr add "10.77.0.$i/24" dev eth0
  ip -n "$tag$host" link set eth0 up
  ip -n "$tag$host" link set lo up
  i=$((i + 1))
done

mkdir -p "$work/a/models" "$work/b/models" "$work/c"
"$INFERNET" model make-test --out "$work/a/models/tiny.gguf" --preset tiny 2>/dev/null
hash=$("$INFERNET" model info "$work/a/models/tiny.gguf" --json --hash |
       sed -nE 's/.*"blake2b_256": "([0-9a-f]{64})".*/\1/p')

ip netns exec "${tag}a" "$INFERNET" node --home "$work/a" --listen 10.77.0.1:0 --dht-listen 10.77.0.1:0 \
  >"$work/a.out" 2>"$work/a.err" &
pids+=($!)
wait_ready "$work/a.out"
dht="10.77.0.1:$(json_field "$work/a.out" dht_port)"
ip netns exec "${tag}b" "$INFERNET" node --home "$work/b" --listen 10.77.0.2:0 --dht-listen 10.77.0.2:0 \
  --bootstrap "$dht" >"$work/b.out" 2>"$work/b.err" &
pids+=($!)
wait_ready "$work/b.out"

on c "$INFERNET" providers --home "$work/c" --bootstrap "$dht" --expect 2 --json \
  >"$work/providers.jsonl" 2>"$work/providers.err" || fail "providers"
grep -q '"10.77.0.1:' "$work/providers.jsonl" || fail "provider A (10.77.0.1) not found from host c"
grep -q '"10.77.0.2:' "$work/providers.jsonl" || fail "provider B (10.77.0.2) not found from host c"

printf '%s\n' '{"prompt":"across namespaces"}' >"$work/inputs.jsonl"
cat >"$work/job.json" <<JOB
{"model": "$hash", "kind": "generate", "inputs": "inputs.jsonl", "max_tokens": 8, "seed": 3,
 "max_price_per_mtok": 5000, "deadline_seconds": 60}
JOB
on c "$INFERNET" submit "$work/job.json" --home "$work/c" --bootstrap "$dht" \
  --out "$work/results.jsonl" 2>"$work/submit.err" || fail "submit: $(cat "$work/submit.err")"
grep -q "\"provider\":\"$(json_field "$work/a.out" node_id)\"" "$work/results.jsonl" ||
  fail "the job did not run on provider A"
on c "$INFERNET" model pull "$hash" --home "$work/c" --bootstrap "$dht" --dir "$work/c/models" \
  >/dev/null 2>"$work/pull.err" || fail "pull: $(cat "$work/pull.err")"
cmp -s "$work/c/models/$hash.gguf" "$work/a/models/tiny.gguf" || fail "pulled model differs"
echo "netns end-to-end: all checks passed"
