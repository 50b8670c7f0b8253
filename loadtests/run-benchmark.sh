#!/usr/bin/env bash
# Full load-test run and server-overhead comparison on one model (see loadtests/README.md):
#   1. `flashllm bench` on the model: prompt and decode speed without HTTP;
#   2. `flashllm serve` on loopback with the same threads, then the Gatling simulation at 1, 4 and
#      16 concurrent users (streaming completions, the same prompt length and token count);
#   3. a table: TTFT and inter-token latency through HTTP against the bench's figures.
# Settings (environment): MODEL (default: a synthesized Llama in loadtests/target), THREADS (2),
# PARALLEL (4 slots), LEVELS (1,4,16), REQUESTS (per user, 5), GEN_TOKENS (32), PORT (18090),
# DISTINCT=1 (each stream's prompt starts with its number: no slot reuses an earlier prompt's KV cache).
# Needs curl and python3 besides the JDK. Takes a few minutes; loopback only.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. bin/find-jdk.sh
flashllm_find_jdk || exit 1
JAR="$ROOT/server/target/flashllm.jar"
[ -f "$JAR" ] || ./mvnw -B -q -DskipTests package
FL=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UnlockDiagnosticVMOptions -XX:+IncrementalInlineForceCleanup -XX:CompileCommand=quiet -XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::exp -XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::tanh -XX:TrimNativeHeapInterval=1000 -XX:+UseParallelGC -Xss4m -jar "$JAR")
THREADS="${THREADS:-2}"; PARALLEL="${PARALLEL:-4}"; LEVELS="${LEVELS:-1,4,16}"
REQUESTS="${REQUESTS:-5}"; GEN_TOKENS="${GEN_TOKENS:-32}"; PORT="${PORT:-18090}"; DISTINCT="${DISTINCT:-0}"
OUT="$ROOT/loadtests/target/benchmark"
mkdir -p "$OUT"
MODEL="${MODEL:-$ROOT/loadtests/target/bench-llama-512x8-q8_0.gguf}"
if [ ! -e "$MODEL" ]; then
  "${FL[@]}" synth --dim 512 --layers 8 --heads 8 --kv-heads 4 --vocab 8000 --type Q8_0 -o "$MODEL" 2>&1 | grep -v incubator
fi
PROMPT="${PROMPT:-Write a short story about a lighthouse keeper who finds a message in a bottle.}"

FLASHLLM_HOST=127.0.0.1 FLASHLLM_PORT="$PORT" FLASHLLM_THREADS="$THREADS" FLASHLLM_PARALLEL="$PARALLEL" \
  FLASHLLM_QUEUE_SIZE=64 FLASHLLM_MODEL="$MODEL" "${FL[@]}" serve >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 240); do
  curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER" || { cat "$OUT/server.log" >&2; exit 1; }
  sleep 0.5
done
# With DISTINCT=1 the streams' prompts are "Request N. " + PROMPT: count a two-digit N.
COUNTED="$PROMPT"; [ "$DISTINCT" = 1 ] && COUNTED="Request 10. $PROMPT"
PROMPT_TOKENS="$(curl -sf "http://127.0.0.1:$PORT/tokenize" -H 'Content-Type: application/json' \
  -d "$(python3 -c 'import json,sys; print(json.dumps({"content": sys.argv[1], "add_special": True}))' "$COUNTED")" \
  | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tokens"]))')"
echo "model $MODEL, prompt $PROMPT_TOKENS tokens$([ "$DISTINCT" = 1 ] && echo ', distinct per stream'), $GEN_TOKENS generated, $THREADS threads, $PARALLEL slots"

# The server idles while the bench runs alone (both on the same cores would measure contention).
# Three bench runs; the comparison uses their median speeds (shared machines are noisy).
kill -STOP "$SERVER"
: > "$OUT/bench-runs.json"
for _ in 1 2 3; do
  "${FL[@]}" bench -m "$MODEL" --json -t "$THREADS" --prompt-tokens "$PROMPT_TOKENS" --gen-tokens "$GEN_TOKENS" \
    2>/dev/null | tail -n 1 >> "$OUT/bench-runs.json"
done
kill -CONT "$SERVER"
python3 - "$OUT/bench-runs.json" > "$OUT/bench.json" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = dict(runs[0])
for k in ("prompt_tok_s", "decode_tok_s"):
    out[k] = statistics.median(r[k] for r in runs)
out["runs_measured"] = len(runs)
print(json.dumps(out))
PY
cat "$OUT/bench-runs.json"

./mvnw -B -ntp -f loadtests/pom.xml gatling:test -DbaseUrl="http://127.0.0.1:$PORT" -Dlevels="$LEVELS" \
  -Drequests="$REQUESTS" -DmaxTokens="$GEN_TOKENS" -Dprompt="$PROMPT" -DdistinctPrompts="$([ "$DISTINCT" = 1 ] && echo true || echo false)" -DtokenTimeoutSeconds=120 \
  -DresultFile="$OUT/loadtest.json" >"$OUT/gatling.log" 2>&1 || { tail -n 60 "$OUT/gatling.log" >&2; exit 1; }
sed -n '/client side/,/^written/p' "$OUT/gatling.log"

python3 - "$OUT/bench.json" "$OUT/loadtest.json" "$PROMPT_TOKENS" <<'PY'
import json, sys
bench = json.load(open(sys.argv[1])); levels = json.load(open(sys.argv[2])); p = int(sys.argv[3])
ttft_b = 1000.0 * p / bench["prompt_tok_s"]; itl_b = 1000.0 / bench["decode_tok_s"]
print(f"\nflashllm bench (median of {bench.get('runs_measured', 1)} runs): prompt {p} tokens {ttft_b:.1f} ms ({bench['prompt_tok_s']:.1f} tok/s), "
      f"decode {itl_b:.1f} ms/token ({bench['decode_tok_s']:.1f} tok/s)")
print("| users | TTFT p50 HTTP | TTFT bench | overhead | ITL p50 HTTP | ITL bench | overhead | tokens/s |")
print("|------:|--------------:|-----------:|---------:|-------------:|----------:|---------:|---------:|")
for l in levels:
    print(f"| {l['users']:5d} | {l['ttft_ms_p50']:10.1f} ms | {ttft_b:7.1f} ms | {100*(l['ttft_ms_p50']/ttft_b-1):+7.1f}% "
          f"| {l['itl_ms_p50']:9.1f} ms | {itl_b:6.1f} ms | {100*(l['itl_ms_p50']/itl_b-1):+7.1f}% | {l['tokens_per_s']:8.1f} |")
PY
