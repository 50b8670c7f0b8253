package io.flashllm.flashstore.select;

/** Every neuron, every token: the exact baseline, and the only choice for non-sparse activations. */
public final class DenseSelector implements NeuronSelector {
    @Override
    public String name() {
        return "dense";
    }

    @Override
    public void select(int layer, float[] x, Selection out) {
        out.selectAll();
    }

    @Override
    public boolean needsResidentGate() {
        return false;
    }

    /** Dense needs all of the next layer, so anything not cached is worth reading early. */
    @Override
    public boolean prefetchHint(int nextLayer, float[] x, Selection out) {
        out.selectAll();
        return true;
    }
}
