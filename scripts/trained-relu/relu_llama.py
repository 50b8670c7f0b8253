"""A ReLU-gated Llama in PyTorch with Hugging Face tensor names: the model flashllm runs as `llama-relu`.

Written from the Llama definition (RMSNorm, half-split RoPE, causal attention, down(relu(gate x) * up x)),
not from flashllm's code, so that `perplexity.py` checks the engine against an independent implementation.
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F


class Shape:
    def __init__(self, cfg):
        self.dim = cfg["hidden_size"]
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg["num_key_value_heads"]
        self.ffn = cfg["intermediate_size"]
        self.vocab = cfg["vocab_size"]
        self.head_dim = self.dim // self.heads
        self.eps = cfg["rms_norm_eps"]
        self.theta = cfg["rope_theta"]


def init_weights(s, seed=0):
    """Tensor name -> trainable tensor; residual outputs scaled down with depth (GPT-2 style)."""
    g = torch.Generator().manual_seed(seed)

    def p(*shape, std):
        return torch.nn.Parameter(torch.randn(*shape, generator=g) * std)

    w = {"model.embed_tokens.weight": p(s.vocab, s.dim, std=0.02)}
    kv = s.kv_heads * s.head_dim
    for l in range(s.layers):
        h = f"model.layers.{l}."
        w[h + "input_layernorm.weight"] = torch.nn.Parameter(torch.ones(s.dim))
        w[h + "self_attn.q_proj.weight"] = p(s.dim, s.dim, std=s.dim ** -0.5)
        w[h + "self_attn.k_proj.weight"] = p(kv, s.dim, std=s.dim ** -0.5)
        w[h + "self_attn.v_proj.weight"] = p(kv, s.dim, std=s.dim ** -0.5)
        w[h + "self_attn.o_proj.weight"] = p(s.dim, s.dim, std=s.dim ** -0.5 / math.sqrt(2 * s.layers))
        w[h + "post_attention_layernorm.weight"] = torch.nn.Parameter(torch.ones(s.dim))
        w[h + "mlp.gate_proj.weight"] = p(s.ffn, s.dim, std=s.dim ** -0.5)
        w[h + "mlp.up_proj.weight"] = p(s.ffn, s.dim, std=s.dim ** -0.5)
        w[h + "mlp.down_proj.weight"] = p(s.dim, s.ffn, std=s.ffn ** -0.5 / math.sqrt(2 * s.layers))
    w["model.norm.weight"] = torch.nn.Parameter(torch.ones(s.dim))
    w["lm_head.weight"] = p(s.vocab, s.dim, std=s.dim ** -0.5)
    return w


class Model:
    def __init__(self, s, w, max_len, threshold=0.0):
        """threshold > 0: FATReLU (a gate value at or below it counts as zero), else ReLU."""
        self.s, self.w, self.threshold = s, w, threshold
        inv = 1.0 / (s.theta ** (torch.arange(0, s.head_dim, 2).float() / s.head_dim))
        ang = torch.outer(torch.arange(max_len).float(), inv)
        self.cos, self.sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        # Additive causal mask: masked_fill's backward is ~10x slower in Debian's torch 1.13.
        self.causal = torch.zeros(max_len, max_len).masked_fill(
            torch.triu(torch.ones(max_len, max_len, dtype=torch.bool), 1), float("-inf"))

    def rms(self, x, weight):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.s.eps) * weight

    def rope(self, x):
        n, half = x.shape[-2], self.s.head_dim // 2
        return x * self.cos[:n] + torch.cat([-x[..., half:], x[..., :half]], -1) * self.sin[:n]

    def forward(self, tok):
        """Logits for every position, and each layer's gate activations act(gate x) (for the L1 term)."""
        s, w = self.s, self.w
        b, n = tok.shape
        x = w["model.embed_tokens.weight"][tok]
        acts = []
        for l in range(s.layers):
            h = f"model.layers.{l}."
            a = self.rms(x, w[h + "input_layernorm.weight"])
            q = (a @ w[h + "self_attn.q_proj.weight"].T).view(b, n, s.heads, s.head_dim).transpose(1, 2)
            k = (a @ w[h + "self_attn.k_proj.weight"].T).view(b, n, s.kv_heads, s.head_dim).transpose(1, 2)
            v = (a @ w[h + "self_attn.v_proj.weight"].T).view(b, n, s.kv_heads, s.head_dim).transpose(1, 2)
            q, k = self.rope(q), self.rope(k)
            if s.kv_heads != s.heads:
                k = k.repeat_interleave(s.heads // s.kv_heads, 1)
                v = v.repeat_interleave(s.heads // s.kv_heads, 1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(s.head_dim) + self.causal[:n, :n]
            x = x + (att.softmax(-1) @ v).transpose(1, 2).reshape(b, n, s.dim) @ w[h + "self_attn.o_proj.weight"].T
            f = self.rms(x, w[h + "post_attention_layernorm.weight"])
            g = f @ w[h + "mlp.gate_proj.weight"].T
            g = g * (g > self.threshold) if self.threshold > 0 else F.relu(g)
            acts.append(g)
            x = x + (g * (f @ w[h + "mlp.up_proj.weight"].T)) @ w[h + "mlp.down_proj.weight"].T
        return self.rms(x, w["model.norm.weight"]) @ w["lm_head.weight"].T, acts


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {t['dtype']}; this reader takes F32 only")
        a, b = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").copy()).view(*t["shape"])
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        b = t.detach().float().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_ids(path):
    return torch.from_numpy(np.fromfile(path, dtype="<i4").astype(np.int64))
