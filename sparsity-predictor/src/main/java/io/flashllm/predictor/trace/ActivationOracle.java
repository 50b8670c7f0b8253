package io.flashllm.predictor.trace;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.predictor.math.Rows;
import io.flashllm.predictor.math.Vec;
import io.flashllm.predictor.math.Workers;

import java.util.List;

/**
 * The ground truth of which FFN neurons fire: the pre-activation that decides it is the gate row
 * times x for gated ReLU / FATReLU FFNs, and the fc1 (up) row times x plus its bias for OPT. Built
 * from the layer matrices the FFN itself uses (memory-mapped, read in place).
 *
 * <p>{@link #preActivations} is the single-vector path (the decode loop's quality sampler), with
 * the kernels' row dot products and no allocation; {@link #masks} is the bulk path for
 * calibration, which decodes each row once per batch of vectors.
 */
public final class ActivationOracle {
    private final LayerMatrices matrices;
    private final FfnActivation activation;
    private final int dim;
    private final int neurons;

    public ActivationOracle(LayerMatrices matrices, FfnActivation activation) {
        if (!activation.sparse()) {
            throw new IllegalArgumentException("activation " + activation.kind() + " is never exactly zero: there is no"
                    + " sparsity to predict (use a ReLU-family model)");
        }
        this.matrices = matrices;
        this.activation = activation;
        this.dim = matrices.cols();
        this.neurons = matrices.rows();
    }

    /** Over matrices already in memory; {@code biases} may be null. */
    public ActivationOracle(List<WeightTensor> matrices, List<float[]> biases, FfnActivation activation) {
        this(LayerMatrices.resident(matrices, biases), activation);
    }

    public int layers() {
        return matrices.layers();
    }

    public int dim() {
        return dim;
    }

    public int neurons() {
        return neurons;
    }

    public FfnActivation activation() {
        return activation;
    }

    public LayerMatrices matrices() {
        return matrices;
    }

    /** True when a neuron with this pre-activation outputs non-zero. */
    public boolean fires(float pre) {
        return activation.apply(pre) != 0f;
    }

    /** pre[j] for every neuron of {@code layer}; single-threaded, allocation-free for resident matrices. */
    public void preActivations(int layer, float[] x, float[] pre) {
        WeightTensor w = matrices.acquire(layer);
        try {
            float[] b = matrices.bias(layer);
            for (int j = 0; j < neurons; j++) pre[j] = MatVec.dot(w, j, x, 0) + (b == null ? 0f : b[j]);
        } finally {
            matrices.release(layer);
        }
    }

    /**
     * True masks of {@code count} vectors {@code xs} (row-major) at {@code layer}: bit j of vector t
     * is word {@code masks[t * words + j / 64]}, bit {@code j % 64}. Rows are split over the workers
     * in whole mask words, so no two threads write the same word.
     */
    public void masks(int layer, float[] xs, int count, long[] masks, Workers workers) {
        int words = TraceFormat.maskWords(neurons);
        java.util.Arrays.fill(masks, 0, count * words, 0L);
        WeightTensor w = matrices.acquire(layer);
        try {
            float[] b = matrices.bias(layer);
            workers.forRange(words, (w0, w1) -> {
                float[] r = new float[dim];
                int end = Math.min(neurons, w1 * 64);
                for (int j = w0 * 64; j < end; j++) {
                    Rows.dequantize(w, j, r, 0);
                    float bj = b == null ? 0f : b[j];
                    long bit = 1L << (j & 63);
                    int word = j >>> 6;
                    for (int t = 0; t < count; t++) {
                        if (fires(Vec.dot(r, 0, xs, t * dim, dim) + bj)) masks[t * words + word] |= bit;
                    }
                }
            });
        } finally {
            matrices.release(layer);
        }
    }
}
