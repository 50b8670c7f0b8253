package io.flashllm.kernels.backend;

import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.cpu.Simd;

/** The Vector API kernels on a {@link Parallel} pool. */
public final class CpuBackend implements ComputeBackend {
    private final Parallel pool;

    public CpuBackend(int threads) {
        this.pool = Parallel.create(threads);
    }

    /** The pool, for callers that also run their own parallel loops (attention over heads). */
    public Parallel parallel() {
        return pool;
    }

    @Override
    public String name() {
        return "cpu(" + pool.threads() + " threads, " + Simd.describe() + ")";
    }

    @Override
    public void matvec(WeightTensor w, float[] x, float[] out) {
        MatVec.matvec(pool, w, x, out);
    }

    @Override
    public void matvecRows(WeightTensor w, int[] rows, int count, float[] x, float[] out) {
        MatVec.matvecRows(pool, w, rows, count, x, out);
    }

    @Override
    public void matmul(WeightTensor w, float[] x, int batch, float[] out) {
        MatVec.matmul(pool, w, x, batch, out);
    }

    @Override
    public void close() {
        pool.close();
    }
}
