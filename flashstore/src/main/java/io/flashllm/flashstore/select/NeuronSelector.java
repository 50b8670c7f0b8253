package io.flashllm.flashstore.select;

/**
 * Decides which FFN neurons a token needs at a layer. Implementations must be exact or say how
 * they are not: {@code dense} and {@code gate-exact} are exact; a predictor-driven one is not.
 */
public interface NeuronSelector {
    /** Name used on the command line and in logs ({@code dense}, {@code gate-exact}, ...). */
    String name();

    /**
     * Fills {@code out} (already cleared) with the neurons needed for FFN input {@code x} at
     * {@code layer}, in ascending order.
     */
    void select(int layer, float[] x, Selection out);

    /**
     * True when {@link #selectChunk} works: the selection can be made one range of neurons at a
     * time, so the FFN reads the first range's misses from flash while the next range is chosen.
     */
    default boolean selectsInChunks() {
        return false;
    }

    /**
     * Appends to {@code out} the needed neurons of range {@code chunk} of {@code chunks} (the range
     * {@link #chunkStart}{@code (n, chunk, chunks)} up to that of {@code chunk + 1}), in ascending
     * order, with their gate pre-activations when the selector computes them. Called for chunks
     * 0, 1, ... in order on a cleared {@code out}; after the last one {@code out} equals what
     * {@link #select} gives.
     */
    default void selectChunk(int layer, float[] x, int chunk, int chunks, Selection out) {
        throw new UnsupportedOperationException(name() + " selects all neurons at once");
    }

    /** First neuron of range {@code chunk} when {@code n} neurons are split into {@code chunks} ranges. */
    static int chunkStart(int n, int chunk, int chunks) {
        return (int) ((long) n * chunk / chunks);
    }

    /** True when the selector reads the gate matrices from DRAM, so bundles need not carry them. */
    boolean needsResidentGate();

    /**
     * Neurons of {@code nextLayer} worth reading ahead while the current layer computes, given the
     * current layer's FFN input; false when the selector has no useful guess (the default).
     */
    default boolean prefetchHint(int nextLayer, float[] x, Selection out) {
        return false;
    }

    /** Releases what the selector holds (mapped predictor files); the bundle that built it calls this once. */
    default void close() {}
}
