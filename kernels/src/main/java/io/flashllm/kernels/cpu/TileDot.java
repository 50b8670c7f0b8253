package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;

/**
 * Dot products of one decoded weight row (hot in L1) with several activation rows at once: each
 * weight vector loaded feeds {@link #TILE} FMAs, which is what makes batched prompt processing
 * compute-bound rather than load-bound.
 */
public final class TileDot {
    public static final int TILE = 4;

    private TileDot() {}

    /** {@code w[0..cols) . x[xOff ..]}. */
    public static float dot(float[] w, int cols, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        for (; c <= cols - 2 * L; c += 2 * L) {
            a0 = FloatVector.fromArray(F, w, c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
            a1 = FloatVector.fromArray(F, w, c + L).fma(FloatVector.fromArray(F, x, xOff + c + L), a1);
        }
        for (; c <= cols - L; c += L) {
            a0 = FloatVector.fromArray(F, w, c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) sum += w[c] * x[xOff + c];
        return sum;
    }

    /**
     * For the four activation rows {@code b..b+3} of {@code x} (row length {@code cols}), writes
     * {@code out[(b+i)*rows + r] = w . x[b+i]}.
     */
    public static void dot4(float[] w, int cols, float[] x, int b, int rows, int r, float[] out) {
        int x0 = b * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= cols - L; c += L) {
            FloatVector wv = FloatVector.fromArray(F, w, c);
            a0 = wv.fma(FloatVector.fromArray(F, x, x0 + c), a0);
            a1 = wv.fma(FloatVector.fromArray(F, x, x1 + c), a1);
            a2 = wv.fma(FloatVector.fromArray(F, x, x2 + c), a2);
            a3 = wv.fma(FloatVector.fromArray(F, x, x3 + c), a3);
        }
        float s0 = a0.reduceLanes(VectorOperators.ADD), s1 = a1.reduceLanes(VectorOperators.ADD);
        float s2 = a2.reduceLanes(VectorOperators.ADD), s3 = a3.reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) {
            float wc = w[c];
            s0 += wc * x[x0 + c];
            s1 += wc * x[x1 + c];
            s2 += wc * x[x2 + c];
            s3 += wc * x[x3 + c];
        }
        out[b * rows + r] = s0;
        out[(b + 1) * rows + r] = s1;
        out[(b + 2) * rows + r] = s2;
        out[(b + 3) * rows + r] = s3;
    }
}
