#!/usr/bin/env bash
# End-to-end checks of the `infernet` command as a user runs it: real files, real processes.
set -euo pipefail
: "${INFERNET:?set INFERNET to the infernet binary}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_error EXPECTED_TEXT CMD... : the command must fail, and say EXPECTED_TEXT on stderr.
expect_error() {
  local expected=$1; shift
  if "$@" >"$work/out" 2>"$work/err"; then fail "expected failure: $*"; fi
  grep -q -- "$expected" "$work/err" || fail "stderr of '$*' lacks '$expected': $(cat "$work/err")"
}

"$INFERNET" --help | grep -q "generate" || fail "--help lists no generate"
for cmd in "model make-test" "model info" generate embed; do
  $INFERNET $cmd --help >/dev/null || fail "$cmd --help"
done

model="$work/tiny.gguf"
"$INFERNET" model make-test --out "$model" --preset tiny --arch qwen2 --type Q4_K --seed 7 2>/dev/null
"$INFERNET" model info "$model" --json --hash >"$work/info.json"
grep -q '"architecture": "qwen2"' "$work/info.json" || fail "info lacks architecture"
grep -q '"blake2b_256"' "$work/info.json" || fail "info lacks hash"

# Same seed → same tokens, twice (separate processes), and across thread counts.
gen() { "$INFERNET" generate --model "$model" --prompt "Hello there" --max-tokens 16 \
          --temperature 0.9 --top-k 40 --seed "$1" --threads "$2" --json 2>/dev/null; }
a=$(gen 11 1); b=$(gen 11 2); c=$(gen 12 2)
[ "$a" = "$b" ] || fail "same seed gave different outputs across thread counts"
echo "$a" | grep -q '"completion_tokens":16' || fail "expected 16 tokens: $a"
[ "$a" != "$c" ] || echo "note: seeds 11 and 12 happened to agree" >&2

"$INFERNET" generate --model "$model" --chat --prompt "Hi" --max-tokens 4 >/dev/null 2>&1 \
  || fail "chat generation"
"$INFERNET" embed --model "$model" --text "one" --text "two words" --pooling last >"$work/emb"
[ "$(wc -l <"$work/emb")" -eq 2 ] || fail "embed should print 2 lines"

# Bad input: clear errors, non-zero exits.
expect_error "not found" "$INFERNET" generate --model "$work/missing.gguf" --prompt x
head -c 1000 "$model" >"$work/truncated.gguf"
expect_error "error" "$INFERNET" model info "$work/truncated.gguf"
expect_error "error" "$INFERNET" generate --model "$work/truncated.gguf" --prompt x
printf 'not a model at all' >"$work/junk.gguf"
expect_error "magic" "$INFERNET" model info "$work/junk.gguf"
expect_error "unknown tensor type" "$INFERNET" model make-test --out "$work/x.gguf" --type Q3_K
expect_error "temperature" "$INFERNET" generate --model "$model" --prompt x --temperature -1
expect_error "" "$INFERNET" generate --model "$model"   # missing --prompt
[ ! -e "$work/x.gguf" ] || fail "a failed make-test left a file behind"
# Node identity keys: created owner-only, shown without secrets, never overwritten.
for cmd in keys "keys new" "keys show"; do
  $INFERNET $cmd --help >/dev/null || fail "$cmd --help"
done
export INFERNET_HOME="$work/home/.infernet"
"$INFERNET" keys new >"$work/keys_new" || fail "keys new (default location)"
key="$INFERNET_HOME/node.key"
[ -f "$key" ] || fail "keys new did not create $key"
[ "$(stat -c %a "$key")" = 600 ] || fail "key file mode is $(stat -c %a "$key"), not 600"
[ "$(stat -c %a "$INFERNET_HOME")" = 700 ] || fail "key directory mode is not 700"
"$INFERNET" keys show --json >"$work/keys.json" || fail "keys show --json"
for field in node_id ed25519_public x25519_public key_file; do
  grep -q "\"$field\"" "$work/keys.json" || fail "keys show --json lacks $field"
done
node_id=$(sed -n 's/.*"node_id": "\([0-9a-f]\{64\}\)".*/\1/p' "$work/keys.json")
[ -n "$node_id" ] || fail "keys show --json has no 64-hex node_id"
grep -q "$node_id" "$work/keys_new" || fail "keys new and keys show disagree on the node ID"
"$INFERNET" keys show | grep -q "$node_id" || fail "keys show (text) lacks the node ID"
seed=$(sed -n 's/.*"ed25519_seed": "\([0-9a-f]*\)".*/\1/p' "$key")
[ -n "$seed" ] || fail "key file has no ed25519_seed"
! grep -q "$seed" "$work/keys.json" "$work/keys_new" || fail "a secret was printed"
cp "$key" "$work/key.before"
expect_error "already exists" "$INFERNET" keys new
cmp -s "$key" "$work/key.before" || fail "keys new overwrote an existing key"
"$INFERNET" keys new --out "$work/other.key" >/dev/null || fail "keys new --out"
"$INFERNET" keys show --key "$work/other.key" | grep -q "$node_id" && fail "two keys share an ID"
expect_error "already exists" "$INFERNET" keys new --out "$work/other.key"
chmod 644 "$work/other.key"
expect_error "chmod 600" "$INFERNET" keys show --key "$work/other.key"
expect_error "not found" "$INFERNET" keys show --key "$work/absent.key"
unset INFERNET_HOME
echo "cli end-to-end: all checks passed"
