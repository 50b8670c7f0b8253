package io.flashllm.flashstore.select;

/**
 * The neurons one token needs at one layer, written by a {@link NeuronSelector} into buffers that
 * are allocated once per layer and reused for every token (the decode loop must not allocate).
 *
 * <p>{@link #gatePre()} holds the gate pre-activation of every neuron when the selector computed
 * it (gate-exact), so the FFN does not compute it a second time; otherwise it is unused. A
 * {@link ChunkedSelector} fills it range by range: after each range it is valid for the ranges
 * chosen so far, which are the only neurons the FFN looks up.
 */
public final class Selection {
    private final int[] neurons;
    private final float[] gatePre;
    private int count;
    private boolean all;
    private boolean gateKnown;

    public Selection(int neuronCount) {
        this.neurons = new int[neuronCount];
        this.gatePre = new float[neuronCount];
    }

    public int neuronCount() {
        return neurons.length;
    }

    /** Ascending neuron ids, valid in {@code [0, count())}. */
    public int[] neurons() {
        return neurons;
    }

    public int count() {
        return count;
    }

    /** True when every neuron of the layer is selected (dense). */
    public boolean all() {
        return all;
    }

    /** Gate pre-activations of all neurons, meaningful only when {@link #gateKnown()}. */
    public float[] gatePre() {
        return gatePre;
    }

    public boolean gateKnown() {
        return gateKnown;
    }

    public void clear() {
        count = 0;
        all = false;
        gateKnown = false;
    }

    /** Appends a neuron; callers add ids in ascending order. */
    public void add(int neuron) {
        neurons[count++] = neuron;
    }

    public void selectAll() {
        for (int i = 0; i < neurons.length; i++) neurons[i] = i;
        count = neurons.length;
        all = true;
    }

    public void markGateKnown() {
        gateKnown = true;
    }
}
