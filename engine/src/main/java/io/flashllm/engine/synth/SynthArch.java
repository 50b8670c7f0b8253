package io.flashllm.engine.synth;

import java.util.Arrays;
import java.util.Locale;

/** The model families synth can write. */
public enum SynthArch {
    /** Llama with a SiLU-gated FFN. */
    LLAMA("llama"),
    /** Llama whose gated FFN uses ReLU, or FATReLU with a threshold chosen for a target sparsity. */
    LLAMA_RELU("llama-relu"),
    /** Qwen3: Llama with per-head q/k norms, half-split rotation, heads that may be wider than dim / heads. */
    QWEN3("qwen3"),
    /**
     * Gemma 3 (GGUF only): q/k norms, norms after the attention and the FFN, GELU-gated FFN, tied output,
     * a 512-position window on five layers of six.
     */
    GEMMA3("gemma3"),
    /** Gemma 2 (GGUF only): Gemma 3 without q/k norms, every other layer windowed, soft-capped scores and logits. */
    GEMMA2("gemma2"),
    /** Phi-3 (GGUF only): q/k/v in one matrix, gate and up in one, half-split rotation. */
    PHI3("phi3"),
    /**
     * IBM Granite 3 (GGUF only): Llama with scalars on the embedding, the residual adds, the attention and the
     * logits; {@code granitemoe} with experts.
     */
    GRANITE("granite"),
    /**
     * OpenAI's gpt-oss (GGUF only, needs {@code --experts}): biases on q/k/v, the attention output, the router
     * and the experts; a sink logit per head; every other layer windowed; YaRN rotation; clamped SwiGLU.
     */
    GPT_OSS("gpt-oss"),
    /** OPT: learned positions, LayerNorm with biases, ReLU FFN without gate, tied output. */
    OPT("opt");

    public final String cliName;

    SynthArch(String cliName) {
        this.cliName = cliName;
    }

    public boolean llamaFamily() {
        return this != OPT;
    }

    /** {@code general.architecture} as llama.cpp names it. */
    public String ggufArch() {
        return switch (this) {
            case LLAMA, LLAMA_RELU -> "llama";
            case QWEN3 -> "qwen3";
            case GEMMA3 -> "gemma3";
            case GEMMA2 -> "gemma2";
            case PHI3 -> "phi3";
            case GRANITE -> "granite";
            case GPT_OSS -> "gpt-oss";
            case OPT -> "opt";
        };
    }

    /** GGUF llama's (and granite's) q/k rows are permuted for adjacent-pair rotation; qwen3's and gemma3's are not. */
    public boolean permutesQk() {
        return this == LLAMA || this == LLAMA_RELU || this == GRANITE;
    }

    /** Gemma's block: sqrt(dim) embedding scale, norms after the sub-blocks, GELU, tied classifier. */
    public boolean gemma() {
        return this == GEMMA2 || this == GEMMA3;
    }

    /** Per-head RMSNorm of queries and keys. */
    public boolean qkNorm() {
        return this == QWEN3 || this == GEMMA3;
    }

    public static SynthArch parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        for (SynthArch a : values()) {
            if (a.cliName.equals(k)) return a;
        }
        throw new IllegalArgumentException("unknown architecture '" + s + "' (one of "
                + String.join(", ", Arrays.stream(values()).map(a -> a.cliName).toList()) + ")");
    }
}
