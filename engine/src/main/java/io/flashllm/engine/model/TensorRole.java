package io.flashllm.engine.model;

/**
 * Every tensor a model may hold, named per source by {@link TensorNames}. Per-layer roles take the
 * layer index (and the per-expert ones an expert index); the rest ignore it.
 */
public enum TensorRole {
    TOKEN_EMBEDDING(false),
    POSITION_EMBEDDING(false),
    PROJECT_IN(false),
    PROJECT_OUT(false),
    OUTPUT_NORM(false),
    OUTPUT_NORM_BIAS(false),
    OUTPUT(false),
    ROPE_FREQS(false),
    ROPE_FACTORS_LONG(false),
    ROPE_FACTORS_SHORT(false),
    ATTN_NORM(true),
    ATTN_NORM_BIAS(true),
    ATTN_Q(true),
    ATTN_Q_BIAS(true),
    ATTN_K(true),
    ATTN_K_BIAS(true),
    ATTN_V(true),
    ATTN_V_BIAS(true),
    ATTN_OUTPUT(true),
    ATTN_OUTPUT_BIAS(true),
    ATTN_Q_NORM(true),
    ATTN_K_NORM(true),
    ATTN_POST_NORM(true),
    /** gpt-oss: one learned logit per query head that joins each softmax of its scores. */
    ATTN_SINKS(true),
    FFN_NORM(true),
    FFN_NORM_BIAS(true),
    FFN_GATE(true),
    FFN_GATE_BIAS(true),
    FFN_UP(true),
    FFN_UP_BIAS(true),
    FFN_DOWN(true),
    FFN_DOWN_BIAS(true),
    FFN_POST_NORM(true),
    /** A mixture of experts' router: one row of dim per expert. */
    FFN_GATE_INP(true),
    /** gpt-oss: the router's bias, one per expert. */
    FFN_GATE_INP_BIAS(true),
    /**
     * Every expert's gate, up or down matrix of a layer in one tensor (GGUF's {@code ffn_*_exps}); gpt-oss has
     * a bias for each, every expert's in one matrix (a row per expert).
     */
    FFN_GATE_EXPS(true),
    FFN_GATE_EXPS_BIAS(true),
    FFN_UP_EXPS(true),
    FFN_UP_EXPS_BIAS(true),
    FFN_DOWN_EXPS(true),
    FFN_DOWN_EXPS_BIAS(true),
    /** One expert's matrix on its own ({@code {E}} in the name: HF checkpoints, older Mixtral GGUF files). */
    FFN_GATE_EXP(true),
    FFN_UP_EXP(true),
    FFN_DOWN_EXP(true);

    public final boolean perLayer;

    TensorRole(boolean perLayer) {
        this.perLayer = perLayer;
    }
}
