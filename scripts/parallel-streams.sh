#!/usr/bin/env bash
# Aggregate decode speed of concurrent streams through `serve` (docs/benchmarks.md §6): starts the
# server on loopback with one slot per stream, sends one warm-up completion, then STREAMS completions
# at once (distinct prompts, greedy, up to TOKENS tokens each) and prints the tokens generated, the
# wall time and the tokens per second of all streams together.
#
#   scripts/parallel-streams.sh MODEL                        # 4 streams of 64 tokens, 2 threads
#   STREAMS=6 TOKENS=48 scripts/parallel-streams.sh MODEL
#   FLASHLLM_JAVA_OPTS=-Dflashllm.batchDecode=false scripts/parallel-streams.sh MODEL   # each step alone
#   SERVE_ARGS="--memory-budget 736M" scripts/parallel-streams.sh BUNDLE   # more options for serve
#   FLASHLLM=/path/to/other/bin/flashllm scripts/parallel-streams.sh MODEL   # another build
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${1:?usage: scripts/parallel-streams.sh MODEL (a GGUF file, HF directory or flash bundle)}"
STREAMS="${STREAMS:-4}"
TOKENS="${TOKENS:-64}"
THREADS="${THREADS:-2}"
PORT="${PORT:-18123}"
NAME=parallel-streams
. "$ROOT/scripts/lib/loopback-serve.sh"
require_positive STREAMS TOKENS THREADS PORT
start_serve "$MODEL" "$PORT" "$STREAMS" "$THREADS"

complete() { # $1: prompt suffix, $2: output file
  curl -sf "http://127.0.0.1:$PORT/v1/completions" -H 'Content-Type: application/json' \
    -d "{\"prompt\":\"Stream $1 begins: once upon a time\",\"max_tokens\":$TOKENS,\"temperature\":0}" > "$2"
}
complete warm-up "$WORK/warm.json"

start=$(date +%s.%N)
pids=()
for i in $(seq 1 "$STREAMS"); do
  complete "$i" "$WORK/out.$i.json" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
end=$(date +%s.%N)

python3 - "$WORK" "$STREAMS" "$start" "$end" <<'PY'
import json, sys
work, streams, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
tokens = [json.load(open(f"{work}/out.{i}.json"))["usage"]["completion_tokens"] for i in range(1, streams + 1)]
wall = end - start
print(f"streams {streams}: tokens {tokens}, wall {wall:.2f} s, all streams {sum(tokens) / wall:.1f} tok/s")
PY
