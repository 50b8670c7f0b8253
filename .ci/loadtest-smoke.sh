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
JAR="$ROOT/server/target/flashllm.jar"
[ -f "$JAR" ] || { echo "loadtest-smoke: $JAR missing; build it first (./mvnw -DskipTests package)" >&2; exit 1; }
PORT="${LOADTEST_PORT:-18089}"
LOG="$(mktemp /tmp/flashllm-loadtest-server.XXXXXX.log)"

FLASHLLM_HOST=127.0.0.1 FLASHLLM_PORT="$PORT" FLASHLLM_PARALLEL="${FLASHLLM_PARALLEL:-2}" \
  "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -XX:+UnlockDiagnosticVMOptions -XX:+IncrementalInlineForceCleanup -XX:TrimNativeHeapInterval=1000 -XX:+UseParallelGC -Xss4m -jar "$JAR" serve >"$LOG" 2>&1 &
SERVER=$!
stop_server() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
trap stop_server EXIT

healthy() { # bash's /dev/tcp: no curl needed on a bare machine
  ( exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
    printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 5 status <&3 || exit 1
    case "$status" in *" 200"*) exit 0 ;; *) exit 1 ;; esac ) 2>/dev/null
}
ready=0
for _ in $(seq 1 240); do
  kill -0 "$SERVER" 2>/dev/null || break
  if healthy; then ready=1; break; fi
  sleep 0.5
done
if [ "$ready" -ne 1 ]; then
  echo "loadtest-smoke: server not healthy on port $PORT; log:" >&2
  cat "$LOG" >&2
  exit 1
fi

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
