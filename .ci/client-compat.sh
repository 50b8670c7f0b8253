#!/usr/bin/env bash
# The official OpenAI and Ollama JavaScript clients (clients/, pinned in its package-lock.json) against the
# built server on loopback, serving a small synthetic model: models, streamed and whole answers, JSON
# schemas, tool calls and their results, the Responses API, embeddings, through the clients' own parsing. Installs Node.js from Debian
# when it is missing and this runs as root; skips (exit 0) otherwise unless FLASHLLM_REQUIRE_DEPLOY_TESTS=1.
# Called by .ci/run after the jar is built.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. bin/find-jdk.sh
flashllm_find_jdk || exit 1

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "client-compat: installing nodejs and npm (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  elif [ "${FLASHLLM_REQUIRE_DEPLOY_TESTS:-0}" = 1 ]; then
    echo "client-compat: needs node and npm (Debian: apt-get install nodejs npm)" >&2
    exit 1
  else
    echo "client-compat: skipped (no node/npm; Debian: apt-get install nodejs npm)" >&2
    exit 0
  fi
fi

WORK="$(mktemp -d /tmp/flashllm-client-compat.XXXXXX)"
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -jar server/target/flashllm.jar synth --arch llama --dim 256 \
  --layers 4 --heads 8 --kv-heads 4 --ffn 768 --vocab 4000 --type Q8_0 --format gguf --seed 7 \
  --out "$WORK/compat.gguf" 2>/dev/null >/dev/null
PORT="${CLIENT_COMPAT_PORT:-18090}"
. .ci/lib/loopback-server.sh
start_loopback_server client-compat "$PORT" "$WORK/server.log" --model "$WORK/compat.gguf" --ctx 2048 --parallel 1

(cd clients && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
if ! (cd clients && FLASHLLM_URL="http://127.0.0.1:$PORT" MODEL=compat node check.mjs); then
  echo "client-compat: FAILED; server log:" >&2
  tail -n 40 "$WORK/server.log" >&2
  exit 1
fi
stop_loopback_server
rm -rf "$WORK"
