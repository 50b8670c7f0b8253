package io.flashllm.flashstore.ffn;

/**
 * A {@link FeedForward} that can also run a batch of tokens at once (prompt processing), reading
 * each weight row once for the whole batch instead of once per token.
 */
public interface BatchedFeedForward extends FeedForward {
    /**
     * {@code out[b*dim ..] = FFN_layer(x[b*dim ..])} for {@code b < batch}; {@code x} and {@code out}
     * are batch x dim, row-major.
     */
    void forwardBatch(int layer, float[] x, int batch, float[] out);
}
