#!/usr/bin/env bash
# A/B of two JVM settings on `flashllm bench`, alternated, for machines whose speed drifts more
# between runs than the change under test moves it (the 2-core VMs of docs/benchmarks.md swing
# 20-35% within minutes). Each round runs A then B, the next B then A, one fresh JVM per run; it
# prints every run, then the median of each side and the median of the per-round ratios B/A, which
# cancel most of the drift that a comparison of two separate series keeps.
#
#   A="-Dflashllm.x=1" B="-Dflashllm.x=2" scripts/ab-bench.sh --model M.gguf --threads 2 --prompt-tokens 64 --gen-tokens 48
#   ROUNDS=12 A="" B="-XX:-UseSuperWord" scripts/ab-bench.sh --model M.gguf
#
# A and B go into FLASHLLM_JAVA_OPTS (either may be empty); the arguments go to `bench` (plus --json).
# ROUNDS (default 8) rounds, so 2 x ROUNDS runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${ROUNDS:-8}"
A="${A-}"
B="${B-}"
if [ -z "$A" ] && [ -z "$B" ]; then
  echo "set A and/or B to the FLASHLLM_JAVA_OPTS of the two sides, e.g. A=-Dflashllm.x=1 B=-Dflashllm.x=2" >&2
  exit 2
fi
if ! [[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]]; then
  echo "ROUNDS must be a positive integer, got '$ROUNDS'" >&2
  exit 2
fi
command -v python3 > /dev/null || { echo "needs python3 (Debian: apt-get install python3)" >&2; exit 2; }

# Prints "decode_tok_s prompt_tok_s" of one bench run with FLASHLLM_JAVA_OPTS=$1.
run() {
  local out
  if ! out=$(FLASHLLM_JAVA_OPTS="$1" "$ROOT/bin/flashllm" bench --json "${@:2}" 2> /tmp/ab-bench.err.$$); then
    echo "bench failed (FLASHLLM_JAVA_OPTS='$1'):" >&2
    cat /tmp/ab-bench.err.$$ >&2
    rm -f /tmp/ab-bench.err.$$
    exit 1
  fi
  rm -f /tmp/ab-bench.err.$$
  printf '%s\n' "$out" | python3 -c 'import json,sys; o=json.loads(sys.stdin.read().strip().splitlines()[-1]); print("%.2f %.2f" % (o["decode_tok_s"], o["prompt_tok_s"]))'
}

results=()
echo "A: FLASHLLM_JAVA_OPTS='$A'"
echo "B: FLASHLLM_JAVA_OPTS='$B'"
for ((r = 1; r <= ROUNDS; r++)); do
  if (( r % 2 == 1 )); then
    a=$(run "$A" "$@"); b=$(run "$B" "$@")
  else
    b=$(run "$B" "$@"); a=$(run "$A" "$@")
  fi
  echo "round $r  A decode/prompt tok/s: $a   B: $b"
  results+=("$a $b")
done
printf '%s\n' "${results[@]}" | python3 -c '
import statistics as st, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
for i, name in ((0, "decode"), (1, "prompt")):
    a = [r[i] for r in rows]; b = [r[2 + i] for r in rows]
    ratios = [y / x for x, y in zip(a, b) if x > 0]
    print(f"{name}: median A {st.median(a):.1f}  B {st.median(b):.1f} tok/s; "
          f"B/A per round median {st.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")
'
