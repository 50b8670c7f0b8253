#!/usr/bin/env bash
# flashllm's forward pass against llama.cpp's, per architecture: a small random-weight model of each
# (flashllm synth, F32) is run greedy by both on the same prompts, and the generated text must be the
# same. Random weights give meaningless text, but greedy tokens follow from every logit of every step,
# so two implementations agree only if they compute the same model. One prompt is longer than Gemma 3's
# attention window, so windowed and global layers both matter.
#
#   LLAMA_CLI=/path/to/llama.cpp/build/bin/llama-cli scripts/llamacpp-crosscheck.sh
#   ARCHS="qwen3 phi3" LLAMA_CLI=... scripts/llamacpp-crosscheck.sh
#   LLAMA_QUANTIZE=/path/to/llama-quantize LLAMA_CLI=... scripts/llamacpp-crosscheck.sh
#
# With LLAMA_QUANTIZE, also gpt-oss as its files come (experts MXFP4). llama.cpp quantizes activations for
# its MXFP4 products, which alone changes random-weight text within a few tokens, so llama-quantize widens
# the file to F32 with llama.cpp's own MXFP4 decoding; flashllm's perplexity of the third prompt must be the
# same (within 1e-4) on the MXFP4 file, through its MXFP4 kernels, as on that F32 file (the format read by two
# independent decoders), and flashllm and llama.cpp must write the same text from the F32 file. (Greedy text
# from the MXFP4 file itself can part from it at a near tie: the kernels add in another order.)
#
# llama.cpp is not part of flashllm: build it yourself and name its llama-cli. Prints SAME or DIFF per
# model and prompt; exits 1 on any DIFF.
#
# mixtral and granite need mainline llama.cpp: ik_llama.cpp's llama graph (at least to late 2026) adds the
# FFN's normalized input instead of the residual stream after a mixture of experts, and multiplies the whole
# residual stream (not only the sub-block's output) by Granite's residual scale, so its Mixtral and Granite
# texts differ (flashllm with either change made by hand gave ik's text exactly on all three prompts; qwen3moe,
# whose graph adds the residual, is SAME there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARCHS="${ARCHS:-llama qwen3 gemma2 gemma3 phi3 granite mixtral qwen3moe gpt-oss}"
if [ -z "${LLAMA_CLI:-}" ] || [ ! -x "$LLAMA_CLI" ]; then
  echo "set LLAMA_CLI to llama.cpp's llama-cli binary (got '${LLAMA_CLI:-}')" >&2
  exit 2
fi
command -v python3 > /dev/null || { echo "needs python3 (Debian: apt-get install python3)" >&2; exit 2; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
printf '%s' "The cat sat on the mat" > "$WORK/p1"
printf '%s' "hello world, the river" > "$WORK/p2"
python3 -c "import sys; sys.stdout.write(' '.join('the river and the island of water people %d' % i for i in range(70)))" > "$WORK/p3"

# The shapes: heads wider than dim / heads where the family has them; Gemma 2 with 26 layers, a count
# llama.cpp knows (it refuses others); Phi-3 under a neutral name (llama.cpp looks up Phi-3's own
# special tokens when the name says phi3); the mixtures of experts (Mixtral is llama with experts,
# Qwen3-MoE qwen3 with experts, gpt-oss always has them) route among eight. gpt-oss's window (128) is
# shorter than the third prompt, and its YaRN rotation differs from plain RoPE at every position.
shape() {
  case "$1" in
    llama) echo "--arch llama --dim 256 --layers 6 --heads 4 --kv-heads 2 --ffn 512" ;;
    qwen3|gemma3) echo "--arch $1 --dim 256 --layers 6 --heads 4 --kv-heads 2 --ffn 512 --head-dim 128" ;;
    gemma2) echo "--arch gemma2 --dim 128 --layers 26 --heads 4 --kv-heads 2 --ffn 256 --head-dim 64" ;;
    phi3) echo "--arch phi3 --dim 256 --layers 6 --heads 4 --kv-heads 2 --ffn 512 --name synthetic-p" ;;
    granite) echo "--arch granite --dim 256 --layers 6 --heads 4 --kv-heads 2 --ffn 512" ;;
    granitemoe) echo "--arch granite --experts 8 --experts-used 2 --dim 256 --layers 6 --heads 4 --kv-heads 2 --ffn 128" ;;
    mixtral) echo "--arch llama --experts 8 --experts-used 2 --dim 256 --layers 6 --heads 4 --kv-heads 2 --ffn 256" ;;
    qwen3moe) echo "--arch qwen3 --experts 8 --experts-used 3 --dim 256 --layers 6 --heads 4 --kv-heads 2 --ffn 128 --head-dim 128" ;;
    gpt-oss) echo "--arch gpt-oss --experts 8 --experts-used 2 --dim 256 --layers 6 --heads 8 --kv-heads 2 --ffn 256 --head-dim 64" ;;
    *) echo "unknown architecture $1" >&2; exit 2 ;;
  esac
}

# Text as UTF-8 with broken sequences replaced, as flashllm prints them (llama.cpp prints raw bytes).
normalize() { python3 -c "import sys; sys.stdout.write(sys.stdin.buffer.read().decode('utf-8', 'replace'))"; }

fail=0
compare() { # name, prompt file, flashllm's model, llama.cpp's model
  ours=$("$ROOT/bin/flashllm" generate --model "$3" --prompt - --max-tokens 24 --temperature 0 --ctx 2048 \
    < "$WORK/$2" 2> /dev/null | normalize)
  theirs=$("$LLAMA_CLI" -m "$4" -f "$WORK/$2" -c 2048 -n 24 --temp 0 --top-k 1 --repeat-penalty 1.0 -s 1 \
    -t 2 --no-display-prompt 2> /dev/null | normalize)
  if [ "$ours" == "$theirs" ]; then
    echo "$1 $2 SAME: ${ours:0:60}"
  else
    echo "$1 $2 DIFF"
    echo "  flashllm:  $ours"
    echo "  llama.cpp: $theirs"
    fail=1
  fi
}
for arch in $ARCHS; do
  model="$WORK/$arch.gguf"
  # shellcheck disable=SC2046
  "$ROOT/bin/flashllm" synth $(shape "$arch") --vocab 2000 --type F32 --context 2048 -o "$model" 2> /dev/null
  for p in p1 p2 p3; do compare "$arch" "$p" "$model" "$model"; done
done
if [ -n "${LLAMA_QUANTIZE:-}" ]; then
  model="$WORK/gpt-oss-mxfp4.gguf"
  # shellcheck disable=SC2046
  "$ROOT/bin/flashllm" synth $(shape gpt-oss) --vocab 2000 --type MXFP4 --context 2048 -o "$model" 2> /dev/null
  "$LLAMA_QUANTIZE" --allow-requantize "$model" "$WORK/gpt-oss-mxfp4-as-f32.gguf" F32 > /dev/null 2>&1
  wide="$WORK/gpt-oss-mxfp4-as-f32.gguf"
  for p in p1 p2 p3; do compare gpt-oss-mxfp4-as-f32 "$p" "$wide" "$wide"; done
  ppl() { "$ROOT/bin/flashllm" perplexity --model "$1" --text "$WORK/p3" --kv-type F32 2> /dev/null | sed -n 's/^perplexity \([0-9.]*\).*/\1/p'; }
  a=$(ppl "$model"); b=$(ppl "$wide")
  if python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if abs(a - b) <= 1e-4 * b else 1)" "$a" "$b"; then
    echo "gpt-oss-mxfp4 perplexity SAME: $a (MXFP4 file) and $b (llama.cpp's F32 widening)"
  else
    echo "gpt-oss-mxfp4 perplexity DIFF: $a (MXFP4 file) and $b (llama.cpp's F32 widening)"
    fail=1
  fi
fi
exit $fail
