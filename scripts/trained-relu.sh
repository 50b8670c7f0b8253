#!/usr/bin/env bash
# Evidence for the sparsity predictor on a *trained* ReLU model (docs/benchmarks.md §5, issue "Sparsity
# predictor"): random-weight models have nearly isotropic FFN inputs that no low-rank map compresses,
# so their predictor figures are a worst case. No model hub is reachable here, so this trains one:
# a small ReLU-gated Llama (dim 256, 4 layers, FFN 1024 by default) on the machine's man pages, in
# PyTorch on the CPU, then runs flashllm on it and on a random-weight model of the same shape:
#
#   1. torch's perplexity against `flashllm perplexity` on held-out text (an independent reference)
#   2. `flashllm calibrate` on both models: per-layer recall / precision / predicted share and the
#      window sweep (FFN bytes read per token and neurons kept in DRAM, predictors against exact)
#   3. `flashllm perplexity --selector predicted --agreement`: perplexity and greedy agreement
#      predicted against exact, on three held-out passages
#
#   scripts/trained-relu.sh                       # ~35 min on 2 cores (25 of them training)
#   MINUTES=5 FATRELU_MINUTES=1 scripts/trained-relu.sh   # a quicker, less trained model
#   DIM=512 LAYERS=8 FFN=2048 MINUTES=60 scripts/trained-relu.sh
#
# Needs python3-torch and libopenblas0-pthread (Debian packages, installed when missing and run as
# root: Debian's torch falls back to the reference BLAS otherwise, ~20x slower) and man pages
# (or CORPUS=FILE, any UTF-8 text of a few MB). Work files go to $WORK (default /var/tmp/flashllm-trained).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/trained-relu"
WORK="${WORK:-/var/tmp/flashllm-trained}"
MINUTES="${MINUTES:-20}"
DIM="${DIM:-256}"; LAYERS="${LAYERS:-4}"; HEADS="${HEADS:-8}"; FFN="${FFN:-1024}"; VOCAB="${VOCAB:-2000}"
SPARSITY="${SPARSITY:-0.9}"      # training pushes the gate activations toward this share of zeros
FATRELU_MINUTES="${FATRELU_MINUTES:-5}"   # then, if still short of it, FATReLU at that share and this much training
CALIB_TOKENS="${CALIB_TOKENS:-8192}"
RANK="${RANK:-64}"
CORPUS_MB="${CORPUS_MB:-20}"
PY=/usr/bin/python3
FL="$ROOT/bin/flashllm"
mkdir -p "$WORK"

if ! "$PY" -c 'import torch' 2>/dev/null || [ ! -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "trained-relu: install python3-torch and libopenblas0-pthread (apt-get), or run as root" >&2; exit 1; }
  echo "== apt-get install python3-torch libopenblas0-pthread" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-torch libopenblas0-pthread >&2
fi
. "$ROOT/bin/find-jdk.sh"
flashllm_find_jdk || exit 1
[ -f "$ROOT/server/target/flashllm.jar" ] || "$ROOT/mvnw" -B -q -f "$ROOT/pom.xml" -DskipTests package
JAVA="$JAVA_HOME/bin/java"

TEXT="$WORK/text.txt"
if [ ! -f "$TEXT" ]; then
  if [ -n "${CORPUS:-}" ]; then
    cp "$CORPUS" "$WORK/corpus.txt"
  else
    echo "== corpus: man pages rendered as text (up to $CORPUS_MB MB)" >&2
    command -v man >/dev/null || { echo "trained-relu: no man pages here; set CORPUS=FILE" >&2; exit 1; }
    : > "$WORK/corpus.txt"
    for f in /usr/share/man/man1/*.gz /usr/share/man/man5/*.gz /usr/share/man/man7/*.gz /usr/share/man/man8/*.gz; do
      MANWIDTH=100 man -l "$f" 2>/dev/null | col -bx >> "$WORK/corpus.txt" || true
      [ "$(stat -c %s "$WORK/corpus.txt")" -lt $((CORPUS_MB << 20)) ] || break
    done
  fi
  # Page layout is not language: drop indentation and runs of blanks, squeeze blank lines.
  sed -E 's/^[ \t]+//; s/[ \t]+/ /g' "$WORK/corpus.txt" | cat -s > "$TEXT"
fi
head -c 300000 "$TEXT" > "$WORK/calib.txt"       # calibration text: from the training part
tail -c 200000 "$TEXT" > "$WORK/held.txt"        # held-out text: the last 5% of tokens is never trained on
for i in 1 2 3; do                               # three passages for greedy agreement
  tail -c $((i * 60000)) "$TEXT" | head -c 3000 > "$WORK/held-$i.txt" || true   # tail ends on SIGPIPE
done

SHAPE=(--arch llama-relu --dim "$DIM" --layers "$LAYERS" --heads "$HEADS" --ffn "$FFN" --vocab "$VOCAB" --context 256)
RANDOM_HF="$WORK/random-hf"; TRAINED_HF="$WORK/trained-hf"
[ -d "$RANDOM_HF" ] || "$FL" synth "${SHAPE[@]}" --format hf --type F32 --sparsity "$SPARSITY" -o "$RANDOM_HF" >&2
tok() { "$JAVA" -cp "$ROOT/server/target/flashllm.jar" "$HERE/Tokenize.java" "$@"; }
[ -f "$WORK/text.ids" ] || tok "$RANDOM_HF" "$TEXT" "$WORK/text.ids" --corpus
tok "$RANDOM_HF" "$WORK/held.txt" "$WORK/held.ids"

if [ ! -f "$TRAINED_HF/model.safetensors" ]; then
  echo "== train ($MINUTES + $FATRELU_MINUTES min)" >&2
  (cd "$HERE" && "$PY" train.py "$RANDOM_HF" "$WORK/text.ids" "$TRAINED_HF" "$MINUTES" "$SPARSITY" "$FATRELU_MINUTES")
fi

echo "== 1. held-out perplexity, PyTorch against flashllm (F32 weights and KV cache, 4096 tokens)"
(cd "$HERE" && "$PY" perplexity.py "$TRAINED_HF" "$WORK/held.ids" 256 4096 | sed 's/^/torch:    /')
"$FL" perplexity --model "$TRAINED_HF" --text "$WORK/held.txt" --ctx 256 --max-tokens 4096 --kv-type F32 2>/dev/null \
  | sed 's/^/flashllm: /'

for m in trained random; do
  hf="$WORK/$m-hf"; bundle="$WORK/$m.bundle"
  [ -d "$bundle" ] || "$FL" convert --model "$hf" --out "$bundle" >&2
  echo "== 2. $m weights: calibrate ($CALIB_TOKENS tokens of man pages, rank $RANK)"
  "$FL" calibrate --model "$bundle" --text "$WORK/calib.txt" --tokens "$CALIB_TOKENS" --rank "$RANK" --ctx 256 2>/dev/null
  echo "== 3. $m weights: held-out perplexity, exact and predicted; greedy agreement predicted vs exact"
  for sel in auto predicted; do
    echo -n "$sel: "
    "$FL" perplexity --model "$bundle" --selector "$sel" --text "$WORK/held.txt" --ctx 256 --max-tokens 8192 2>/dev/null
  done
  for i in 1 2 3; do
    "$FL" perplexity --model "$bundle" --selector predicted --text "$WORK/held-$i.txt" --ctx 256 --agreement 240 2>/dev/null \
      | grep agreement
  done
done
