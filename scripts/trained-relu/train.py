"""Train the ReLU-gated Llama of relu_llama.py on token ids and write it as a Hugging Face directory.

    python3 train.py SKELETON IDS OUT MINUTES [TARGET_SPARSITY] [FATRELU_MINUTES]

SKELETON is a `flashllm synth --format hf` directory of the wanted shape: its config.json and tokenizer are
copied, its weights replaced (INIT=DIR starts from that directory's weights instead of random ones).
ProSparse's recipe in two phases: MINUTES of ReLU training with an L1 term on the gate activations, raised
while the model is less sparse than TARGET_SPARSITY (default 0.9) and lowered while it is sparser; then,
if the model is still short of the target and FATRELU_MINUTES > 0, the FATReLU threshold that cuts the
target share of gate values on training text, and FATRELU_MINUTES of training under it. config.json gets
`relu`, or `fatrelu` with the threshold, so flashllm runs the model as trained.
"""
import json
import math
import os
import shutil
import sys
import time

import torch
import torch.nn.functional as F

from relu_llama import Model, Shape, init_weights, read_ids, read_safetensors, write_safetensors

skeleton, ids_path, out_dir, minutes = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
target = float(sys.argv[5]) if len(sys.argv) > 5 else 0.9
fatrelu_minutes = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
torch.manual_seed(0)
cfg = json.load(open(os.path.join(skeleton, "config.json")))
s = Shape(cfg)
T, B, LR = 256, 16, 3e-3
ids = read_ids(ids_path)
split = int(len(ids) * 0.95)  # the last 5% is never trained on
train, held = ids[:split], ids[split:]
print(f"tokens: train {len(train)}, held-out {len(held)}; dim {s.dim}, {s.layers} layers, ffn {s.ffn}", flush=True)
if os.environ.get("INIT"):
    w = {k: torch.nn.Parameter(v) for k, v in read_safetensors(os.path.join(os.environ["INIT"], "model.safetensors")).items()}
else:
    w = init_weights(s)
model = Model(s, w, T)


def batch_of_training_text():
    at = torch.randint(0, len(train) - T - 1, (B,))
    return torch.stack([train[j: j + T + 1] for j in at])


def run(phase, minutes, lr_max, warmup, l1):
    """Trains for `minutes` (cosine schedule to a tenth of lr_max); l1: adapt the L1 term toward the target."""
    opt = torch.optim.AdamW(w.values(), lr=lr_max, betas=(0.9, 0.95), weight_decay=0.05)
    start, step, lam = time.time(), 0, 0.0
    while (frac := (time.time() - start) / max(minutes * 60, 1e-9)) < 1:
        lr = lr_max * min(1.0, (step + 1) / warmup) * (0.1 + 0.45 * (1 + math.cos(math.pi * frac)))
        for group in opt.param_groups:
            group["lr"] = lr
        batch = batch_of_training_text()
        logits, acts = model.forward(batch[:, :-1])
        ce = F.cross_entropy(logits.reshape(-1, s.vocab), batch[:, 1:].reshape(-1))
        active = sum((g > 0).float().mean() for g in acts).item() / s.layers
        if l1 and step % 20 == 0 and frac > 0.1:
            lam = lam * 1.25 + 1e-4 if active > 1 - target else lam / 1.25
        loss = ce + lam * sum(g.mean() for g in acts) / s.layers
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(w.values(), 1.0)
        opt.step()
        if step % 50 == 0:
            print(f"{phase} step {step} {time.time() - start:.0f}s lr {lr:.2e} loss {ce.item():.3f} active {active:.3f}"
                  f" l1 {lam:.2e}", flush=True)
        step += 1
    return step


def active_share():
    with torch.no_grad():
        _, acts = model.forward(batch_of_training_text()[:, :-1])
        return sum((g > 0).float().mean() for g in acts).item() / s.layers


t0 = time.time()
steps = run("relu", minutes, LR, 100, True)
if fatrelu_minutes > 0 and active_share() > 1 - target:
    # ProSparse's last step: the threshold under which the target share of gate values falls, then training under it.
    with torch.no_grad():
        _, acts = model.forward(batch_of_training_text()[:4, :-1])
        gate_values = torch.cat([a.flatten() for a in acts])  # relu'd: zeros below 0, the values above as they are
        # torch.quantile takes at most 2^24 values
        model.threshold = torch.quantile(gate_values[:1 << 24], target).item()
    print(f"FATReLU threshold {model.threshold:.5f} (the {target:.2f} quantile of the gate values)", flush=True)
    steps += run("fatrelu", fatrelu_minutes, LR / 10, 20, False)

with torch.no_grad():
    nll, n, active, windows = 0.0, 0, 0.0, 0
    for j in range(0, min(len(held) - T - 1, 64 * T), T):
        b = held[j: j + T + 1].unsqueeze(0)
        logits, acts = model.forward(b[:, :-1])
        nll += F.cross_entropy(logits.reshape(-1, s.vocab), b[:, 1:].reshape(-1), reduction="sum").item()
        n += T
        active += sum((g > 0).float().mean() for g in acts).item() / s.layers
        windows += 1
print(f"trained {steps} steps in {time.time() - t0:.0f} s: held-out perplexity {math.exp(nll / n):.3f} over {n} tokens,"
      f" {100 * active / windows:.1f}% of gate activations above 0", flush=True)

os.makedirs(out_dir, exist_ok=True)
for name in ("generation_config.json", "tokenizer.json", "tokenizer_config.json"):
    shutil.copy(os.path.join(skeleton, name), out_dir)
for key in ("hidden_act_param", "flashllm_synth_seed"):
    cfg.pop(key, None)
cfg["hidden_act"] = "fatrelu" if model.threshold > 0 else "relu"
if model.threshold > 0:
    cfg["hidden_act_param"] = model.threshold
with open(os.path.join(out_dir, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2)
write_safetensors(os.path.join(out_dir, "model.safetensors"), w)
print("wrote", out_dir)
