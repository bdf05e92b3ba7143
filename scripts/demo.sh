#!/usr/bin/env bash
# The demo: `infernet devnet demo` — a local network on loopback as separate processes (a
# bootstrap DHT node, an aggregator and three providers holding a generated test model), one
# batch job of 48 prompts sharded over the providers through the aggregator, every shard verified
# by the client, and a summary: shards, which provider ran what, retries, time, throughput.
# Models have random weights (no model hub is reachable from build machines): the text is
# gibberish, but the tokens are exactly reproducible from the seed.
# scripts/p2p_demo.sh shows the lower layers step by step (discovery, a direct job, a model pull).
set -euo pipefail
cd "$(dirname "$0")/.."
infernet=${INFERNET:-$PWD/build/cli/infernet}
exec "$infernet" devnet demo --providers 3 "$@"
