#!/usr/bin/env bash
# What structured output costs on a model's vocabulary: the vocabulary trie's build time and the time to
# mask every token under the JSON-object grammar after a few prefixes (docs/benchmarks.md §7).
#
#   scripts/grammar-masks.sh MODEL [ROUNDS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: scripts/grammar-masks.sh MODEL [ROUNDS]" >&2; exit 2; }
. "$ROOT/bin/find-jdk.sh"
flashllm_find_jdk || exit 1
[ -f "$ROOT/server/target/flashllm.jar" ] || "$ROOT/mvnw" -B -q -f "$ROOT/pom.xml" -DskipTests package
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx1g \
  -XX:+UnlockDiagnosticVMOptions -XX:+IncrementalInlineForceCleanup -XX:CompileCommand=quiet -XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::exp -XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::tanh \
  -cp "$ROOT/server/target/flashllm.jar" "$ROOT/scripts/lib/GrammarMasks.java" "$@"
