package io.flashllm.engine.model;

/**
 * IBM Granite's scalars on the Llama graph (GGUF {@code granite.embedding_scale}, {@code residual_scale},
 * {@code logit_scale}; HF {@code embedding_multiplier}, {@code residual_multiplier}, {@code logits_scaling}):
 * token embeddings are multiplied by {@code embedding}, each sub-block's output by {@code residual} before it
 * joins the residual stream, and the logits divided by {@code logitDivisor}. The query-key scale
 * ({@code attention_multiplier}) is {@link ModelConfig#attentionScale}.
 */
public record Multipliers(float embedding, float residual, float logitDivisor) {
    /** Every other model: nothing scaled. */
    public static final Multipliers NONE = new Multipliers(1f, 1f, 1f);

    public Multipliers {
        check(embedding, "embedding");
        check(residual, "residual");
        check(logitDivisor, "logit");
    }

    private static void check(float v, String what) {
        if (!(v > 0) || !Float.isFinite(v)) throw new IllegalArgumentException(what + " scale must be positive, got " + v);
    }

    public boolean any() {
        return !equals(NONE);
    }
}
