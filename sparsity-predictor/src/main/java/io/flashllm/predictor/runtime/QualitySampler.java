package io.flashllm.predictor.runtime;

import io.flashllm.flashstore.select.Selection;
import io.flashllm.predictor.trace.ActivationOracle;

/**
 * Checks the predictor against the truth on a random share of (token, layer) pairs: computes the
 * layer's true pre-activations with the {@link ActivationOracle} and compares them with the
 * selection. The activation mass of a neuron is |act(pre)| of its gate (or fc1) output, the factor
 * by which a missed neuron's contribution is lost. Single-threaded like the decode loop it runs in;
 * counters are thread-safe adders.
 */
public final class QualitySampler {
    private final ActivationOracle oracle;
    private final double rate;
    private final float[] pre;
    private final QualityCounters total = new QualityCounters();
    private final QualityCounters[] perLayer;
    private long state;

    /**
     * @param rate share of (token, layer) pairs checked, in [0, 1]; each check costs about one
     *             dense gate matvec of the layer
     */
    public QualitySampler(ActivationOracle oracle, double rate, long seed) {
        if (!(rate >= 0 && rate <= 1)) throw new IllegalArgumentException("sample rate must be in [0, 1], got " + rate);
        this.oracle = oracle;
        this.rate = rate;
        this.pre = new float[oracle.neurons()];
        this.perLayer = new QualityCounters[oracle.layers()];
        for (int l = 0; l < perLayer.length; l++) perLayer[l] = new QualityCounters();
        this.state = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    public double rate() {
        return rate;
    }

    /** Draws whether this pair is checked (xorshift, no allocation). */
    public boolean draw() {
        if (rate <= 0) return false;
        if (rate >= 1) return true;
        state ^= state << 13;
        state ^= state >>> 7;
        state ^= state << 17;
        return (state >>> 11) * 0x1.0p-53 < rate;
    }

    /** Compares {@code sel} (ascending ids, or all) with the true mask of {@code x} at {@code layer}. */
    public void check(int layer, float[] x, Selection sel) {
        oracle.preActivations(layer, x, pre);
        int[] ids = sel.neurons();
        int count = sel.count();
        int ptr = 0;
        long tp = 0;
        long fn = 0;
        long fp = 0;
        double missed = 0;
        double mass = 0;
        var act = oracle.activation();
        for (int j = 0; j < pre.length; j++) {
            boolean selected = ptr < count && ids[ptr] == j;
            if (selected) ptr++;
            float a = Math.abs(act.apply(pre[j]));
            boolean active = a != 0f;
            mass += a;
            if (active && selected) tp++;
            else if (active) {
                fn++;
                missed += a;
            } else if (selected) fp++;
        }
        perLayer[layer].add(tp, fn, fp, missed, mass);
        total.add(tp, fn, fp, missed, mass);
    }

    public QualityCounters total() {
        return total;
    }

    public QualityCounters layer(int layer) {
        return perLayer[layer];
    }

    public int layers() {
        return perLayer.length;
    }
}
