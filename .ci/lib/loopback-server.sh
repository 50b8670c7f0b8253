# Sourced by the CI smoke runs (loadtest-smoke.sh, client-compat.sh): starts the built server jar on
# 127.0.0.1:$PORT with the given serve options, its log in $LOG, waits until /health answers, and stops
# it with SIGTERM when the script exits. Needs JAVA_HOME (bin/find-jdk.sh) and ROOT.
#   start_loopback_server NAME PORT LOG [serve options...]

start_loopback_server() {
  local name="$1" port="$2" log="$3"
  shift 3
  local jar="$ROOT/server/target/flashllm.jar"
  [ -f "$jar" ] || { echo "$name: $jar missing; build it first (./mvnw -DskipTests package)" >&2; exit 1; }
  FLASHLLM_HOST=127.0.0.1 FLASHLLM_PORT="$port" \
    "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -XX:+UnlockDiagnosticVMOptions -XX:+IncrementalInlineForceCleanup -XX:CompileCommand=quiet -XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::exp -XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::tanh -XX:TrimNativeHeapInterval=1000 \
    -XX:+UseParallelGC -Xss4m -jar "$jar" serve "$@" >"$log" 2>&1 &
  SERVER=$!
  trap stop_loopback_server EXIT
  local _
  for _ in $(seq 1 240); do
    kill -0 "$SERVER" 2>/dev/null || break
    if loopback_healthy "$port"; then return 0; fi
    sleep 0.5
  done
  echo "$name: server not healthy on port $port; log:" >&2
  cat "$log" >&2
  exit 1
}

stop_loopback_server() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}

loopback_healthy() { # bash's /dev/tcp: no curl needed on a bare machine
  ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 5 status <&3 || exit 1
    case "$status" in *" 200"*) exit 0 ;; *) exit 1 ;; esac ) 2>/dev/null
}
