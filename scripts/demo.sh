#!/usr/bin/env bash
# The demo: make a small random-weight model and generate text with it on the native engine.
# (A later milestone turns this into a local multi-node network running a job end to end.)
set -euo pipefail
cd "$(dirname "$0")/.."
infernet=build/cli/infernet
model=build/demo/tiny-llama-q8_0.gguf
mkdir -p build/demo
[ -f "$model" ] || "$infernet" model make-test --out "$model" --preset tiny --arch llama --type Q8_0
"$infernet" model info "$model" --hash | head -20
echo "--- generating (random weights, so the text is gibberish; the tokens are reproducible) ---"
"$infernet" generate --model "$model" --prompt "The quick brown fox" --max-tokens 32 \
  --temperature 0.8 --top-p 0.95 --seed 42
