package io.flashllm.predictor.train;

import io.flashllm.predictor.math.Vec;
import io.flashllm.predictor.math.Workers;

/**
 * A layer predictor's parameters on the heap while it is trained: score(x) = B (A x) + c, with
 * A rank x dim and B neurons x rank row-major, c one bias per neuron; a neuron is predicted active
 * when its score is above {@code threshold}.
 */
public final class LowRank {
    public final int dim;
    public final int neurons;
    public final int rank;
    public final float[] a;
    public final float[] b;
    public final float[] c;
    public float threshold;

    public LowRank(int dim, int neurons, int rank) {
        this.dim = dim;
        this.neurons = neurons;
        this.rank = rank;
        this.a = new float[rank * dim];
        this.b = new float[neurons * rank];
        this.c = new float[neurons];
    }

    public LowRank copy() {
        LowRank p = new LowRank(dim, neurons, rank);
        System.arraycopy(a, 0, p.a, 0, a.length);
        System.arraycopy(b, 0, p.b, 0, b.length);
        System.arraycopy(c, 0, p.c, 0, c.length);
        p.threshold = threshold;
        return p;
    }

    /**
     * Replaces A and B by what the given storage keeps of them, so thresholds can be tuned on the
     * weights the runtime will really use.
     */
    public void roundTrip(io.flashllm.predictor.format.PredictorFormat.WeightType storage) {
        switch (storage) {
            case F32 -> { }
            case F16 -> {
                for (int i = 0; i < a.length; i++) a[i] = Float.float16ToFloat(Float.floatToFloat16(a[i]));
                for (int i = 0; i < b.length; i++) b[i] = Float.float16ToFloat(Float.floatToFloat16(b[i]));
            }
            case Q8 -> {
                io.flashllm.predictor.format.Q8Rows.roundTrip(a, rank, dim);
                io.flashllm.predictor.format.Q8Rows.roundTrip(b, neurons, rank);
            }
        }
    }

    /** h[hOff..hOff+rank) = A x[xOff..). */
    public void project(float[] x, int xOff, float[] h, int hOff) {
        for (int i = 0; i < rank; i++) h[hOff + i] = Vec.dot(a, i * dim, x, xOff, dim);
    }

    /** Scores of {@code count} row-major vectors {@code xs} starting at record {@code first}, into {@code out} (count x neurons). */
    public void scores(float[] xs, int first, int count, float[] out, Workers workers) {
        workers.forRange(count, (t0, t1) -> {
            float[] h = new float[rank];
            for (int t = t0; t < t1; t++) {
                project(xs, (first + t) * dim, h, 0);
                int o = t * neurons;
                for (int j = 0; j < neurons; j++) out[o + j] = Vec.dot(b, j * rank, h, 0, rank) + c[j];
            }
        });
    }
}
