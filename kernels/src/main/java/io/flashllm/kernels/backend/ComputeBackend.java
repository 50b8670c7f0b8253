package io.flashllm.kernels.backend;

import io.flashllm.kernels.WeightTensor;

/**
 * Where the heavy products of a forward pass run. The engine calls these instead of
 * {@link io.flashllm.kernels.MatVec} directly so that a GPU backend can later take over the
 * products (weights uploaded once, activations per call) without touching model code. Element-wise
 * ops stay on the CPU ({@link io.flashllm.kernels.Ops}); they are cheap next to the products.
 *
 * <p>Same contracts as the {@code MatVec} methods of the same names.
 */
public interface ComputeBackend extends AutoCloseable {

    /** Short name for logs and metrics, e.g. {@code "cpu(2 threads, 512-bit vectors, 16 float lanes)"}. */
    String name();

    /** {@code out[r] = W[r] . x} for every row r. */
    void matvec(WeightTensor w, float[] x, float[] out);

    /** {@code out[i] = W[rows[i]] . x} for i in [0, count). */
    void matvecRows(WeightTensor w, int[] rows, int count, float[] x, float[] out);

    /** {@code out[b*rows + r] = W[r] . x[b*cols ..]} for b in [0, batch). */
    void matmul(WeightTensor w, float[] x, int batch, float[] out);

    /** Releases threads and device memory; idempotent. */
    @Override
    void close();

    /**
     * The backend called {@code name} ({@code "cpu"} is the only one so far) with {@code threads}
     * CPU threads.
     */
    static ComputeBackend create(String name, int threads) {
        if (name == null || name.equalsIgnoreCase("cpu")) return new CpuBackend(threads);
        throw new IllegalArgumentException("unknown compute backend '" + name + "'; available: cpu");
    }
}
