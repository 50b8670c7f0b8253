#!/usr/bin/env bash
# Each type's single-core product time over several fresh JVMs, to find kernels whose speed depends
# on how C2 happened to compile them in that JVM. Such states last for the life of the process and
# vary between starts: Q4_K's AVX2 kernel ran 2-3x slower in about a quarter of JVMs (session 46),
# Q5_K's four-row 512-bit kernel about 100x slower in about a third (session 47). One JVM per run, so
# each run compiles afresh; a run more than SLOW (default 2) times the type's fastest run is marked.
#
#   scripts/kernel-jvm-scan.sh                       # every type, 3 JVMs each, the CPU's widest vectors
#   RUNS=6 scripts/kernel-jvm-scan.sh Q5_K,Q6_K      # some types
#   JAVA_OPTS=-XX:UseAVX=2 scripts/kernel-jvm-scan.sh   # the 256-bit kernels on an AVX-512 CPU
#
# KernelBench's shape: a 1024 x 2048 matrix in L2 (--working-set-mb 1), one thread, after its warm-up.
# Prints one line per type (the runs' ms a product), then how many types had a marked run; exits 1 if any.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/bin/find-jdk.sh"
flashllm_find_jdk || exit 1
RUNS="${RUNS:-3}"
SLOW="${SLOW:-2}"
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
  echo "RUNS must be a positive integer, got '$RUNS'" >&2
  exit 2
fi
if ! [[ "$SLOW" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "SLOW must be a number, got '$SLOW'" >&2
  exit 2
fi
# The kernels module's classes (a quick build) rather than the server's shaded jar. Session 47's old
# Q5_K code reached its slow state in 14 of 48 JVMs from the classes, in runs that came in clusters
# (0 of 11, then 4 of 8), and in 0 of 9 from the shaded jar: start-up timing decides it, so use RUNS=8
# or more when looking for a state.
CLASSES="$ROOT/kernels/target/classes"
if [ ! -f "$CLASSES/io/flashllm/kernels/bench/KernelBench.class" ]; then
  echo "building $CLASSES..." >&2
  (cd "$ROOT" && ./mvnw -B -q -ntp -pl kernels compile) >&2
fi
JAVA=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
  -XX:+UnlockDiagnosticVMOptions -XX:+IncrementalInlineForceCleanup -XX:CompileCommand=quiet -XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::exp -XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::tanh)
TYPES="${1:-$("${JAVA[@]}" -cp "$CLASSES" io.flashllm.kernels.bench.KernelBench --list-types 2> /dev/null | tail -n 1)}"

marked=0
IFS=',' read -r -a types <<< "$TYPES"
for t in "${types[@]}"; do
  times=()
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
    out=$("${JAVA[@]}" ${JAVA_OPTS:-} -cp "$CLASSES" io.flashllm.kernels.bench.KernelBench --threads 1 \
      --rows 1024 --cols 2048 --working-set-mb 1 --seconds 1 --types "$t" 2>&1) || { echo "KernelBench failed for $t:" >&2; echo "$out" >&2; exit 2; }
    ms=$(echo "$out" | awk -v t="$t" '$1 == t {print $4}')
    if [ -z "$ms" ]; then echo "no figure for $t in KernelBench's output:" >&2; echo "$out" >&2; exit 2; fi
    times+=("$ms")
  done
  line=$(printf '%s\n' "${times[@]}" | awk -v t="$t" -v slow="$SLOW" '
    { v[NR] = $1; if (NR == 1 || $1 < best) best = $1 }
    END {
      s = sprintf("%-7s", t); n = 0
      for (i = 1; i <= NR; i++) {
        mark = v[i] > slow * best ? "*" : ""; if (mark != "") n++
        s = s sprintf(" %8.3f%s", v[i], mark)
      }
      print s " ms" (n ? "   <- " n " slow" : ""); exit 0
    }')
  echo "$line"
  case "$line" in *"slow"*) marked=$((marked + 1)) ;; esac
done
echo "types with a run over ${SLOW}x their fastest: $marked"
[ "$marked" -eq 0 ]
