"""Perplexity of a token-id file under a Hugging Face directory, scored as `flashllm perplexity` scores it:
consecutive windows of CTX tokens, each from an empty cache, the first token of a window context only.

    python3 perplexity.py MODEL_DIR IDS CTX [MAX_TOKENS]
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

from relu_llama import Model, Shape, read_ids, read_safetensors

model_dir, ids_path, ctx = sys.argv[1], sys.argv[2], int(sys.argv[3])
limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
cfg = json.load(open(os.path.join(model_dir, "config.json")))
if cfg.get("hidden_act") not in ("relu", "fatrelu"):
    raise SystemExit(f"{model_dir}: hidden_act {cfg.get('hidden_act')!r}; this reference runs relu and fatrelu only")
threshold = float(cfg.get("hidden_act_param", 0.0)) if cfg["hidden_act"] == "fatrelu" else 0.0
model = Model(Shape(cfg), read_safetensors(os.path.join(model_dir, "model.safetensors")), ctx, threshold)
ids = read_ids(ids_path)[:limit]
nll, n = 0.0, 0
with torch.no_grad():
    for start in range(0, len(ids) - 1, ctx):
        window = ids[start: start + ctx]
        logits, _ = model.forward(window.unsqueeze(0))
        nll += F.cross_entropy(logits[0, :-1].double(), window[1:], reduction="sum").item()
        n += len(window) - 1
print(f"perplexity {math.exp(nll / n):.4f} over {n} tokens (mean NLL {nll / n:.5f} nats, window {ctx})")
