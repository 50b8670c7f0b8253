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

    /** Called after each row of a {@link #selectBatch}, the row's selection in hand. */
    @FunctionalInterface
    interface RowSelected {
        void accept(int row, Selection selection);
    }

    /**
     * The selections of {@code batch} rows of {@code x} ({@code row.length} wide each, row-major), handed to
     * {@code each} in row order; {@code out} is cleared before each row and reused, {@code row} is scratch,
     * and {@code gateRows[b]} (one value per neuron) may be used to hold row b's gate values. The default
     * selects row by row; a selector whose work is one product over the layer's gate does the whole batch
     * as matrix products, each weight read once for the batch instead of once a row.
     */
    default void selectBatch(int layer, float[] x, int batch, float[] row, float[][] gateRows, Selection out,
                             RowSelected each) {
        for (int b = 0; b < batch; b++) {
            System.arraycopy(x, b * row.length, row, 0, row.length);
            out.clear();
            select(layer, row, out);
            each.accept(b, out);
        }
    }

    /**
     * True when every selection carries every neuron's gate value ({@link Selection#gateKnown()}), so
     * the FFN passes over a cached neuron the token does not need without reading its row: keeping
     * neurons cached past the window then costs nothing but rows the budget gave the cache anyway.
     */
    default boolean knowsEveryGate() {
        return false;
    }

    /** True when the selector reads the gate matrices from DRAM, so bundles need not carry them. */
    boolean needsResidentGate();

    /**
     * Neurons of {@code nextLayer} worth reading ahead while the current layer computes, given the
     * current layer's FFN input; false when the selector has no useful guess (the default). A hint
     * whose {@link Selection#gateKnown()} is set carries guessed gate values in {@code gatePre()}:
     * only its likeliest uncached neurons are read, and they may take rows from cached ones; any
     * other hint is read into free rows only.
     */
    default boolean prefetchHint(int nextLayer, float[] x, Selection out) {
        return false;
    }

    /**
     * True when {@link #prefetchHint} gives guessed gate values, which cost a product as large as a
     * layer's gate: the FFN asks for one only when it has guesses to read and the layer waits on
     * flash long enough to be worth it.
     */
    default boolean guessesGateValues() {
        return false;
    }

    /** Releases what the selector holds (mapped predictor files); the bundle that built it calls this once. */
    default void close() {}
}
