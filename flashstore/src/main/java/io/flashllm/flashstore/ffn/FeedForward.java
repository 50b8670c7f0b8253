package io.flashllm.flashstore.ffn;

/**
 * The FFN of every layer, behind one interface so the model's forward pass does not care where the
 * weights live: all in DRAM (dense, memory-mapped) or on flash behind the neuron cache (bundles).
 */
public interface FeedForward extends AutoCloseable {
    /**
     * {@code out = FFN_layer(x)}: {@code x} is the FFN input after attention and its norm (length dim),
     * {@code out} receives the FFN output (length dim), bias included. Called once per token and layer.
     */
    void forward(int layer, float[] x, float[] out);

    /**
     * Forgets which neurons have been active so far, so that what the FFN learns from traffic (a
     * flash bundle's hot region) starts from the requests that follow, not from a warm-up's
     * synthetic tokens. Cached rows stay; nothing is read again.
     */
    default void forgetActivity() {}

    @Override
    default void close() {}
}
