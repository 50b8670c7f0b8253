#!/usr/bin/env bash
# Short Gatling smoke run (loadtests/): starts the built server (server/target/flashllm.jar, demo
# model unless FLASHLLM_MODEL is set) on loopback, streams a few completions at 1 and 2 users,
# fails on any error, stops the server with SIGTERM. About a minute. Run after the jar is built
# (bin/test / ./mvnw package). Called by .ci/run; the full run is described in loadtests/README.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
. bin/find-jdk.sh
flashllm_find_jdk || exit 1
PORT="${LOADTEST_PORT:-18089}"
LOG="$(mktemp /tmp/flashllm-loadtest-server.XXXXXX.log)"
. .ci/lib/loopback-server.sh
FLASHLLM_PARALLEL="${FLASHLLM_PARALLEL:-2}" start_loopback_server loadtest-smoke "$PORT" "$LOG"

GATLING_LOG="$(mktemp /tmp/flashllm-loadtest-gatling.XXXXXX.log)"
if ./mvnw -B -ntp -f loadtests/pom.xml gatling:test \
     -DbaseUrl="http://127.0.0.1:$PORT" -Dlevels=1,2 -Drequests=2 -DmaxTokens=8 \
     -DtokenTimeoutSeconds=30 -DlevelSeconds=60 -DmaxErrorPercent=0 >"$GATLING_LOG" 2>&1; then
  sed -n '/client side/,/^written/p' "$GATLING_LOG"
  echo "loadtest-smoke: ok (report under loadtests/target/gatling/)"
else
  echo "loadtest-smoke: FAILED; Gatling output:" >&2
  grep -v '|-INFO\||-WARN' "$GATLING_LOG" | tail -n 80 >&2
  echo "server log:" >&2
  tail -n 40 "$LOG" >&2
  exit 1
fi
