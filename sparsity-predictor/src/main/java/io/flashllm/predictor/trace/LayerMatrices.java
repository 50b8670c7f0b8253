package io.flashllm.predictor.trace;

import io.flashllm.kernels.WeightTensor;

import java.util.List;

/**
 * Per layer, the matrix whose rows decide which FFN neurons fire (gate, or OPT's fc1) and its bias.
 * Resident matrices are simply handed out; matrices that live on flash (an OPT bundle's fc1 rows)
 * are loaded on {@link #acquire} and freed on {@link #release}, so only one layer is in DRAM.
 */
public interface LayerMatrices extends AutoCloseable {
    int layers();

    /** Neurons per layer. */
    int rows();

    /** Model dimension. */
    int cols();

    /** The matrix of {@code layer}, valid until {@link #release} of that layer. */
    WeightTensor acquire(int layer);

    default void release(int layer) {}

    /** The bias added to the pre-activations (OPT's fc1 bias), or null. */
    float[] bias(int layer);

    @Override
    default void close() {}

    /** Matrices already in memory (memory-mapped), with optional per-layer biases. */
    static LayerMatrices resident(List<WeightTensor> matrices, List<float[]> biases) {
        if (matrices.isEmpty()) throw new IllegalArgumentException("no layers");
        List<WeightTensor> m = List.copyOf(matrices);
        int rows = m.getFirst().rows();
        int cols = m.getFirst().cols();
        for (int l = 0; l < m.size(); l++) {
            WeightTensor w = m.get(l);
            if (w.rows() != rows || w.cols() != cols) {
                throw new IllegalArgumentException("layer " + l + " matrix " + w.name() + " is " + w.rows() + "x" + w.cols()
                        + ", layer 0's is " + rows + "x" + cols);
            }
            float[] b = biases == null ? null : biases.get(l);
            if (b != null && b.length != rows) throw new IllegalArgumentException("layer " + l + " bias has " + b.length + " entries");
        }
        return new LayerMatrices() {
            @Override
            public int layers() {
                return m.size();
            }

            @Override
            public int rows() {
                return rows;
            }

            @Override
            public int cols() {
                return cols;
            }

            @Override
            public WeightTensor acquire(int layer) {
                return m.get(layer);
            }

            @Override
            public float[] bias(int layer) {
                return biases == null ? null : biases.get(layer);
            }
        };
    }
}
