package io.flashllm.flashstore.select;

/**
 * A selector that can choose a layer's neurons one range at a time, so the FFN reads the first
 * range's misses from flash while the next range is chosen.
 */
public interface ChunkedSelector extends NeuronSelector {
    /**
     * Appends to {@code out} the needed neurons of range {@code chunk} of {@code chunks} (from
     * {@link #chunkStart}{@code (n, chunk, chunks)} up to that of {@code chunk + 1}), in ascending
     * order, with their gate pre-activations. Called for chunks 0, 1, ... in order on a cleared
     * {@code out}; after the last one {@code out} equals what {@link #select} gives.
     */
    void selectChunk(int layer, float[] x, int chunk, int chunks, Selection out);

    /** First neuron of range {@code chunk} when {@code n} neurons are split into {@code chunks} ranges. */
    static int chunkStart(int n, int chunk, int chunks) {
        return (int) ((long) n * chunk / chunks);
    }
}
