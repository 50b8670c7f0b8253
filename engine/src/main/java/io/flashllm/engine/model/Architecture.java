package io.flashllm.engine.model;

/**
 * The model families flashllm runs. Mistral and the ReLU-fied Llama variants (ReluLLaMA, ProSparse,
 * TurboSparse) are {@link #LLAMA}: same graph, different activation or hyper-parameters.
 */
public enum Architecture {
    /** Pre-norm decoder with RMSNorm, RoPE, grouped-query attention and a gated FFN. */
    LLAMA,
    /** Llama graph plus biases on the q/k/v projections; llama.cpp rotates it half-split (NEOX). */
    QWEN2,
    /**
     * Qwen3: the Llama graph (no biases by default) with each query and key head RMS-normalized by its
     * own learned gain before the rotation; rotated half-split like Qwen2. Its head width is set
     * apart from dim / heads (Qwen3 0.6B: 16 heads of 128 on a 1,024-wide residual stream).
     */
    QWEN3,
    /**
     * Gemma 3 (text): the Llama graph with the token embedding scaled by sqrt(dim), per-head q/k RMSNorm,
     * an RMSNorm after the attention and after the FFN as well as before each, a GELU-gated FFN, and
     * five windowed layers (their own rotation base) to each global one.
     */
    GEMMA3,
    /**
     * Gemma 2: Gemma 3's block without the q/k norms, every other layer windowed (one rotation for all),
     * and attention scores and logits soft-capped ({@code c * tanh(x / c)}).
     */
    GEMMA2,
    /**
     * Phi-3 and Phi-4: the Llama graph with q, k and v in one matrix and gate and up in one (gate the first
     * half), rotated half-split, often over part of each head, with LongRoPE factors for long contexts.
     */
    PHI3,
    /**
     * OpenAI's gpt-oss: the Llama graph with biases on q/k/v and the attention output, a learned sink logit
     * per head in each softmax, every other layer windowed, YaRN rotation (half-split), and a mixture of
     * experts whose router and experts have biases and whose gated FFN is a clamped SwiGLU
     * ({@link io.flashllm.flashstore.ffn.FfnActivation.Kind#GATED_SWIGLU_OAI}).
     */
    GPT_OSS,
    /** OPT: LayerNorm with bias, learned positions, biases everywhere, an ungated ReLU FFN. */
    OPT;

    /** The {@code general.architecture} value in GGUF metadata. */
    public String ggufName() {
        return this == GPT_OSS ? "gpt-oss" : name().toLowerCase(java.util.Locale.ROOT);
    }
}
