package io.flashllm.engine.testutil;

import io.flashllm.kernels.GgmlType;

/**
 * A tiny synthetic model for tests: small enough to run the plain reference in milliseconds, with
 * every feature a real model of the family has (GQA, biases, tied embeddings, projections).
 */
public record TinySpec(
        String arch,          // llama | qwen2 | qwen3 | qwen3moe | gemma2 | gemma3 | phi3 | granite | granitemoe | gpt-oss | opt
        int dim,
        int layers,
        int ffnDim,
        int heads,
        int kvHeads,
        int vocab,
        int context,
        float eps,
        float ropeTheta,
        String activation,    // silu | relu | fatrelu (llama family); relu for opt
        float threshold,
        boolean preNorm,      // opt
        int wordDim,          // opt word_embed_proj_dim
        boolean qkvBias,
        boolean tied,
        GgmlType weightType,
        long seed,
        int window,           // sliding attention window, 0 = none
        int headWidth,        // 0: dim / heads
        int experts,          // a mixture of experts' count per layer, 0 = one FFN
        int expertsUsed) {    // experts each token runs

    public int headDim() {
        return headWidth > 0 ? headWidth : dim / heads;
    }

    /** Qwen3's (and Qwen3-MoE's) and Gemma 3's per-head q/k RMSNorm. */
    public boolean qkNorm() {
        return arch.equals("qwen3") || arch.equals("qwen3moe") || gemma3();
    }

    /** Whether each layer's FFN is a mixture of experts (Mixtral: arch llama; Qwen3-MoE: arch qwen3moe). */
    public boolean moe() {
        return experts > 0;
    }

    public boolean gemma3() {
        return arch.equals("gemma3");
    }

    /** Phi-3: fused q/k/v and gate/up, three quarters of each head rotated, LongRoPE. */
    public boolean phi3() {
        return arch.equals("phi3");
    }

    /** How many leading dimensions of a head rotate: all, or Phi-3's three quarters (Phi-4-mini's 96 of 128). */
    public int rotaryDim() {
        return phi3() ? headDim() * 3 / 4 / 2 * 2 : headDim();
    }

    /** Phi-3's LongRoPE: past this context the long factors apply (the tiny model's context, 64, is past it). */
    public static final int PHI3_ORIGINAL_CONTEXT = 32;
    /** Phi-3's LongRoPE attention factor: rotated dimensions are multiplied by it. */
    public static final float PHI3_ATTN_FACTOR = 1.19f;

    public boolean gemma2() {
        return arch.equals("gemma2");
    }

    /** Gemma 2 and 3: sqrt(dim) embedding scale, norms after the sub-blocks, GELU. */
    public boolean gemma() {
        return gemma2() || gemma3();
    }

    /**
     * Gemma 3's layers 5, 11, ... and Gemma 2's odd layers attend to every position; the others within
     * {@link #window}. Every layer of the other models is "global" (their window, if any, holds in all).
     */
    public boolean globalLayer(int layer) {
        if (gemma3()) return (layer + 1) % 6 == 0;
        if (gemma2() || gptOss()) return layer % 2 == 1;
        return true;
    }

    /**
     * OpenAI's gpt-oss: biases on q/k/v/o, the router and the experts; a sink logit per head; even layers
     * windowed; YaRN rotation; SwiGLU clamped at {@link #GPT_OSS_LIMIT} with up shifted by one.
     */
    public boolean gptOss() {
        return arch.equals("gpt-oss");
    }

    /** gpt-oss's YaRN: 32 times its 4,096 trained positions, with beta_fast 32 and beta_slow 1. */
    public static final float GPT_OSS_YARN_FACTOR = 32f;
    public static final int GPT_OSS_ORIGINAL_CONTEXT = 4096;
    /** gpt-oss's SwiGLU: sigmoid slope and the clamp of gate (above) and up (both sides). */
    public static final double GPT_OSS_ALPHA = 1.702;
    public static final double GPT_OSS_LIMIT = 7;

    /** Gemma 2's soft caps of attention scores and of logits (the tiny model's: small, so they bite). */
    public static final float GEMMA2_ATTN_CAP = 0.5f;
    public static final float GEMMA2_FINAL_CAP = 0.8f;

    /** Gemma 3's global layers rotate slower by this linear factor (its 4B and larger models: 8). */
    public static final float GEMMA3_ROPE_SCALE = 8f;

    public boolean opt() {
        return arch.equals("opt");
    }

    /** GGUF llama (and granite, converted as llama) rotates adjacent pairs; the later families and every HF model half-split. */
    public boolean ropeInterleaved() {
        return arch.equals("llama") || granite();
    }

    /** IBM Granite: the Llama graph with scalars on the embedding, the residual adds, the attention and the logits. */
    public boolean granite() {
        return arch.startsWith("granite");
    }

    /** Granite's scalars in the tiny models (Granite 3's own are 12, 0.22, 1/128 and 8; these bite at this size). */
    public static final float GRANITE_EMBEDDING = 3f;
    public static final float GRANITE_RESIDUAL = 0.6f;
    public static final float GRANITE_ATTENTION = 0.2f;
    public static final float GRANITE_LOGIT = 2.5f;

    /** What query-key products are multiplied by. */
    public double attentionScale() {
        return granite() ? GRANITE_ATTENTION : 1 / Math.sqrt(headDim());
    }

    public static TinySpec llama(GgmlType type) {
        return new TinySpec("llama", 64, 2, 128, 4, 2, 320, 64, 1e-5f, 10000f, "silu", 0f, true, 64, false, false,
                type, 11, 0, 0, 0, 0);
    }

    /** Wide enough (256) for the K-quants' 256-element super-blocks. */
    public static TinySpec wideLlama(GgmlType type) {
        return new TinySpec("llama", 256, 2, 512, 8, 2, 320, 64, 1e-5f, 10000f, "silu", 0f, true, 256, false, false,
                type, 15, 0, 0, 0, 0);
    }

    /** {@link #wideLlama} with a ReLU FFN, tied embeddings: a gated sparse model in K-quants. */
    public static TinySpec wideReluLlama(GgmlType type) {
        return new TinySpec("llama", 256, 2, 512, 8, 2, 320, 64, 1e-5f, 10000f, "relu", 0f, true, 256, false, true,
                type, 16, 0, 0, 0, 0);
    }

    public static TinySpec reluLlama(GgmlType type, String activation, float threshold) {
        return new TinySpec("llama", 64, 2, 128, 4, 2, 320, 64, 1e-5f, 10000f, activation, threshold, true, 64,
                false, true, type, 12, 0, 0, 0, 0);
    }

    public static TinySpec qwen2(GgmlType type) {
        return new TinySpec("qwen2", 64, 2, 128, 4, 1, 320, 64, 1e-6f, 1000000f, "silu", 0f, true, 64, true, true,
                type, 13, 0, 0, 0, 0);
    }

    /**
     * Qwen3: no biases, per-head q/k norms, and heads wider than dim / heads (as Qwen3 0.6B: 16 heads
     * of 128 on 1,024), so the q projection is wider than the residual stream.
     */
    public static TinySpec qwen3(GgmlType type) {
        return new TinySpec("qwen3", 64, 2, 128, 4, 2, 320, 64, 1e-6f, 1000000f, "silu", 0f, true, 64, false, true,
                type, 17, 0, 32, 0, 0);
    }

    /**
     * Gemma 3: seven layers (layer 5 global, the rest windowed over 3 positions), heads of 32 on a 64-wide
     * stream, GELU-gated FFN, tied embeddings.
     */
    public static TinySpec gemma3(GgmlType type) {
        return new TinySpec("gemma3", 64, 7, 128, 4, 2, 320, 64, 1e-6f, 1000000f, "gelu", 0f, true, 64, false, true,
                type, 18, 3, 32, 0, 0);
    }

    /** Gemma 2: four layers (0 and 2 windowed over 3 positions), heads of 32 on a 64-wide stream. */
    public static TinySpec gemma2(GgmlType type) {
        return new TinySpec("gemma2", 64, 4, 128, 4, 2, 320, 64, 1e-6f, 10000f, "gelu", 0f, true, 64, false, true,
                type, 19, 3, 32, 0, 0);
    }

    /** Phi-3 (Phi-4-mini's shape in little): fused matrices, partial rotation, LongRoPE, tied embeddings. */
    public static TinySpec phi3(GgmlType type) {
        return new TinySpec("phi3", 64, 2, 128, 4, 2, 320, 64, 1e-5f, 10000f, "silu", 0f, true, 64, false, true,
                type, 20, 0, 0, 0, 0);
    }

    /** Mixtral in little: Llama with four experts per layer, two run per token, weights normalized. */
    public static TinySpec mixtral(GgmlType type) {
        return new TinySpec("llama", 64, 2, 96, 4, 2, 320, 64, 1e-5f, 1000000f, "silu", 0f, true, 64, false, false,
                type, 21, 0, 0, 4, 2);
    }

    /** Qwen3-MoE in little: Qwen3 (wide heads, q/k norms) with six experts per layer, three run per token. */
    public static TinySpec qwen3moe(GgmlType type) {
        return new TinySpec("qwen3moe", 64, 2, 64, 4, 2, 320, 64, 1e-6f, 1000000f, "silu", 0f, true, 64, false, true,
                type, 22, 0, 32, 6, 3);
    }

    /** Granite 3 dense in little. */
    public static TinySpec granite(GgmlType type) {
        return new TinySpec("granite", 64, 2, 128, 4, 2, 320, 64, 1e-5f, 10000f, "silu", 0f, true, 64, false, true,
                type, 23, 0, 0, 0, 0);
    }

    /** Granite 3 MoE in little: four experts, two per token. */
    public static TinySpec granitemoe(GgmlType type) {
        return new TinySpec("granitemoe", 64, 2, 64, 4, 2, 320, 64, 1e-5f, 10000f, "silu", 0f, true, 64, false, true,
                type, 24, 0, 0, 4, 2);
    }

    /**
     * gpt-oss in little: four layers (0 and 2 windowed over 3 positions), heads of 32 on a 64-wide stream,
     * four experts of which two run per token, biases everywhere gpt-oss has them.
     */
    public static TinySpec gptOss(GgmlType type) {
        return new TinySpec("gpt-oss", 64, 4, 64, 4, 2, 320, 64, 1e-5f, 150000f, "swiglu-oai", 0f, true, 64, true, false,
                type, 25, 3, 32, 4, 2);
    }

    public static TinySpec opt(GgmlType type, boolean preNorm, int wordDim) {
        return new TinySpec("opt", 64, 2, 128, 4, 4, 320, 64, 1e-5f, 0f, "relu", 0f, preNorm, wordDim, true, true,
                type, 14, 0, 0, 0, 0);
    }

    public TinySpec withSpec(GgmlType type) {
        return new TinySpec(arch, dim, layers, ffnDim, heads, kvHeads, vocab, context, eps, ropeTheta, activation,
                threshold, preNorm, wordDim, qkvBias, tied, type, seed, window, headWidth, experts, expertsUsed);
    }

    public TinySpec withWindow(int w) {
        return new TinySpec(arch, dim, layers, ffnDim, heads, kvHeads, vocab, context, eps, ropeTheta, activation,
                threshold, preNorm, wordDim, qkvBias, tied, weightType, seed, w, headWidth, experts, expertsUsed);
    }

    public TinySpec withLayers(int n) {
        return new TinySpec(arch, dim, n, ffnDim, heads, kvHeads, vocab, context, eps, ropeTheta, activation,
                threshold, preNorm, wordDim, qkvBias, tied, weightType, seed, window, headWidth, experts, expertsUsed);
    }

    /** This model with a vocabulary of {@code n} tokens and an output head of its own (not the token embedding). */
    public TinySpec withUntiedVocab(int n) {
        return new TinySpec(arch, dim, layers, ffnDim, heads, kvHeads, n, context, eps, ropeTheta, activation,
                threshold, preNorm, wordDim, qkvBias, false, weightType, seed, window, headWidth, experts, expertsUsed);
    }

    public TinySpec withContext(int c) {
        return new TinySpec(arch, dim, layers, ffnDim, heads, kvHeads, vocab, c, eps, ropeTheta, activation,
                threshold, preNorm, wordDim, qkvBias, tied, weightType, seed, window, headWidth, experts, expertsUsed);
    }
}
