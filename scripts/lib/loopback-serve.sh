# Sourced by the scripts that measure `serve` from outside (parallel-streams.sh, chat-turns.sh):
# checks their tools and numeric settings, starts the server on loopback and waits until /health
# answers. The server is stopped and the work folder removed when the script exits.
#
# Before sourcing: NAME (the script's name, for messages) and ROOT (the repository).
# FLASHLLM picks the launcher (default: this checkout's bin/flashllm); SERVE_ARGS adds serve options.

FLASHLLM="${FLASHLLM:-$ROOT/bin/flashllm}"

# require_positive VAR...: each named variable holds a positive integer, or the script stops.
require_positive() {
  local v
  for v in "$@"; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "$NAME: $v must be a positive integer, got '${!v}'" >&2; exit 2; }
  done
}

command -v curl > /dev/null || { echo "$NAME: needs curl (Debian: apt-get install curl)" >&2; exit 2; }
command -v python3 > /dev/null || { echo "$NAME: needs python3 (Debian: apt-get install python3)" >&2; exit 2; }

WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

# start_serve MODEL PORT SLOTS THREADS: serve on 127.0.0.1:PORT, its log in $WORK/serve.log.
start_serve() {
  "$FLASHLLM" serve --model "$1" --host 127.0.0.1 --port "$2" --parallel "$3" \
      --threads "$4" ${SERVE_ARGS:-} > "$WORK/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$2/health" > /dev/null 2>&1 && return 0
    kill -0 "$SERVER" 2>/dev/null || { echo "$NAME: the server exited:" >&2; cat "$WORK/serve.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "$NAME: the server did not answer /health within 5 minutes:" >&2
  cat "$WORK/serve.log" >&2
  exit 1
}
