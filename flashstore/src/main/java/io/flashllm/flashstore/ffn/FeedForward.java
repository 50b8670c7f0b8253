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

    @Override
    default void close() {}
}
