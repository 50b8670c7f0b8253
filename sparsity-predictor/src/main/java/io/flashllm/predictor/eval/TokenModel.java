package io.flashllm.predictor.eval;

/**
 * The little the evaluators need from a language model: next-token logits for a token at a
 * position, with earlier positions cached. The engine's {@code Transformer.forward(token, pos)}
 * fits as a method reference ({@code engine} depends on this module, not the other way round).
 */
@FunctionalInterface
public interface TokenModel {
    /** Logits after {@code token} at {@code pos} (positions 0..pos-1 already run); the array may be reused by the next call. */
    float[] forward(int token, int pos);
}
