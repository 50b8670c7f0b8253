package io.flashllm.engine.model;

/**
 * Which dimensions of a head RoPE rotates together. The choice follows the weights, not the model:
 * llama.cpp's converter permutes Llama q/k rows so that GGUF files rotate adjacent pairs, while the
 * original Hugging Face weights (and GGUF Qwen2, which is not permuted) rotate element i with i + d/2.
 */
public enum RopeStyle {
    /** Pairs (0,1), (2,3), ...: GGUF "llama" (ggml rope mode 0). */
    INTERLEAVED,
    /** Pairs (i, i + rotDim/2): Hugging Face weights and GGUF qwen2 and qwen3 (ggml NEOX mode). */
    HALF_SPLIT,
    /** No rotary embedding (OPT has learned positions). */
    NONE
}
