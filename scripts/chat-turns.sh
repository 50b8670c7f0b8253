#!/usr/bin/env bash
# Multi-turn chats through `serve` (docs/benchmarks.md §6): starts the server on loopback with SLOTS
# slots, then runs CHATS conversations side by side for TURNS turns. Each turn sends the whole
# history so far (as chat clients do) and streams a greedy reply of up to TOKENS tokens, one request
# at a time: the chats take turns in order, or with ORDER=random the next turn is a random chat's
# (seeded, the same sequence every run), as when people reply at their own pace. Prints, per turn,
# the prompt tokens, the tokens the server found in a slot's KV cache
# (usage.prompt_tokens_details.cached_tokens) and the time to first token.
#
#   scripts/chat-turns.sh MODEL                      # 2 slots, 2 chats, 4 turns of 32 tokens, 2 threads
#   ORDER=random scripts/chat-turns.sh MODEL         # the chats' turns in a random order
#   SLOTS=2 CHATS=3 scripts/chat-turns.sh MODEL      # more chats than slots: the oldest cache goes
#   FLASHLLM=/path/to/other/bin/flashllm scripts/chat-turns.sh MODEL   # another build, same client
#   SERVE_ARGS="--memory-budget 736M --ctx 1024" scripts/chat-turns.sh BUNDLE   # more options for serve
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${1:?usage: scripts/chat-turns.sh MODEL (a GGUF file, HF directory or flash bundle)}"
SLOTS="${SLOTS:-2}"
CHATS="${CHATS:-2}"
TURNS="${TURNS:-4}"
TOKENS="${TOKENS:-32}"
THREADS="${THREADS:-2}"
PORT="${PORT:-18124}"
ORDER="${ORDER:-alternate}"
NAME=chat-turns
. "$ROOT/scripts/lib/loopback-serve.sh"
require_positive SLOTS CHATS TURNS TOKENS THREADS PORT
[[ "$ORDER" == alternate || "$ORDER" == random ]] || { echo "chat-turns: ORDER is alternate or random, got '$ORDER'" >&2; exit 2; }
start_serve "$MODEL" "$PORT" "$SLOTS" "$THREADS"

python3 - "$PORT" "$CHATS" "$TURNS" "$TOKENS" "$ORDER" <<'PY'
import http.client, json, random, sys, time
port, chats, turns, tokens = (int(a) for a in sys.argv[1:5])
order = sys.argv[5]
topics = ["the tides", "baking bread", "mountain trails", "old radios", "the night sky", "river boats",
          "chess openings", "desert plants"]

def turn(messages):
    """Streams one chat completion; returns (reply text, prompt tokens, cached tokens, seconds to first token)."""
    body = json.dumps({"messages": messages, "max_tokens": tokens, "temperature": 0, "stream": True,
                       "stream_options": {"include_usage": True}})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.monotonic()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        sys.exit(f"chat-turns: HTTP {resp.status}: {resp.read().decode()}")
    text, first, usage = [], None, None
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        if chunk.get("usage"):
            usage = chunk["usage"]
        for c in chunk.get("choices", []):
            piece = c.get("delta", {}).get("content")
            if piece:
                if first is None:
                    first = time.monotonic() - start
                text.append(piece)
    conn.close()
    cached = usage.get("prompt_tokens_details", {}).get("cached_tokens", -1)  # -1: not reported (older builds)
    return "".join(text), usage["prompt_tokens"], cached, first or 0.0

# A warm-up request on its own, so the first turn's figures do not include compilation.
turn([{"role": "user", "content": "Warm up."}])
history = [[{"role": "system", "content": "You are a helpful assistant."}] for _ in range(chats)]
if order == "alternate":
    steps = [c for _ in range(turns) for c in range(chats)]
else:
    steps = [c for c in range(chats) for _ in range(turns)]
    random.Random(1).shuffle(steps)
print(f"order of the chats' turns: {' '.join(str(c) for c in steps)}")
rows = [[] for _ in range(turns)]
total_prompt = total_cached = 0
for c in steps:
    t = sum(1 for m in history[c] if m["role"] == "user")
    history[c].append({"role": "user", "content": f"Turn {t + 1}: tell me more about {topics[c % len(topics)]}."})
    reply, prompt, cached, ttft = turn(history[c])
    history[c].append({"role": "assistant", "content": reply})
    rows[t].append((prompt, cached, ttft))
    total_prompt += prompt
    total_cached += cached
print("turn  prompt tokens  cached tokens  time to first token (s), mean over the chats")
for t, r in enumerate(rows):
    n = len(r)
    print(f"{t + 1:4d}  {sum(x[0] for x in r) / n:13.1f}  {sum(x[1] for x in r) / n:13.1f}"
          f"  {sum(x[2] for x in r) / n:.3f} (each: {', '.join(f'{x[2]:.3f}' for x in r)})")
print(f"all turns: time to first token {sum(x[2] for r in rows for x in r):.2f} s in all")
if total_cached >= 0:
    print(f"all turns: {total_cached} of {total_prompt} prompt tokens found in a slot's KV cache"
          f" ({100.0 * total_cached / max(1, total_prompt):.0f}%)")
PY
