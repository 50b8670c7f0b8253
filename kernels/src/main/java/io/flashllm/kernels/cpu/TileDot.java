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

    /** {@code w[wOff .. wOff + cols) . x[xOff ..]}. */
    public static float dot(float[] w, int wOff, int cols, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        for (; c <= cols - 2 * L; c += 2 * L) {
            a0 = FloatVector.fromArray(F, w, wOff + c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
            a1 = FloatVector.fromArray(F, w, wOff + c + L).fma(FloatVector.fromArray(F, x, xOff + c + L), a1);
        }
        for (; c <= cols - L; c += L) {
            a0 = FloatVector.fromArray(F, w, wOff + c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) sum += w[wOff + c] * x[xOff + c];
        return sum;
    }

    /**
     * Four decoded weight rows ({@code w[i*cols ..]}, i = 0..3) times four activation rows
     * {@code b..b+3}: 16 accumulators, and each vector loaded feeds four FMAs, so the loop is
     * bound by the FMA units rather than by loads. Writes {@code out[(b+j)*rows + r+i]}.
     */
    public static void dot4x4(float[] w, int cols, float[] x, int b, int rows, int r, float[] out) {
        int w1 = cols, w2 = 2 * cols, w3 = 3 * cols;
        int x0 = b * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int c = 0;
        for (; c <= cols - L; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + c), v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c), v3 = FloatVector.fromArray(F, x, x3 + c);
            FloatVector u = FloatVector.fromArray(F, w, c);
            a00 = u.fma(v0, a00);
            a01 = u.fma(v1, a01);
            a02 = u.fma(v2, a02);
            a03 = u.fma(v3, a03);
            u = FloatVector.fromArray(F, w, w1 + c);
            a10 = u.fma(v0, a10);
            a11 = u.fma(v1, a11);
            a12 = u.fma(v2, a12);
            a13 = u.fma(v3, a13);
            u = FloatVector.fromArray(F, w, w2 + c);
            a20 = u.fma(v0, a20);
            a21 = u.fma(v1, a21);
            a22 = u.fma(v2, a22);
            a23 = u.fma(v3, a23);
            u = FloatVector.fromArray(F, w, w3 + c);
            a30 = u.fma(v0, a30);
            a31 = u.fma(v1, a31);
            a32 = u.fma(v2, a32);
            a33 = u.fma(v3, a33);
        }
        // Written out rather than gathered in an array: the array escaped C2 and cost an allocation per tile.
        int o0 = b * rows + r, o1 = o0 + rows, o2 = o1 + rows, o3 = o2 + rows;
        out[o0] = tail(a00.reduceLanes(VectorOperators.ADD), w, 0, x, x0, c, cols);
        out[o1] = tail(a01.reduceLanes(VectorOperators.ADD), w, 0, x, x1, c, cols);
        out[o2] = tail(a02.reduceLanes(VectorOperators.ADD), w, 0, x, x2, c, cols);
        out[o3] = tail(a03.reduceLanes(VectorOperators.ADD), w, 0, x, x3, c, cols);
        out[o0 + 1] = tail(a10.reduceLanes(VectorOperators.ADD), w, w1, x, x0, c, cols);
        out[o1 + 1] = tail(a11.reduceLanes(VectorOperators.ADD), w, w1, x, x1, c, cols);
        out[o2 + 1] = tail(a12.reduceLanes(VectorOperators.ADD), w, w1, x, x2, c, cols);
        out[o3 + 1] = tail(a13.reduceLanes(VectorOperators.ADD), w, w1, x, x3, c, cols);
        out[o0 + 2] = tail(a20.reduceLanes(VectorOperators.ADD), w, w2, x, x0, c, cols);
        out[o1 + 2] = tail(a21.reduceLanes(VectorOperators.ADD), w, w2, x, x1, c, cols);
        out[o2 + 2] = tail(a22.reduceLanes(VectorOperators.ADD), w, w2, x, x2, c, cols);
        out[o3 + 2] = tail(a23.reduceLanes(VectorOperators.ADD), w, w2, x, x3, c, cols);
        out[o0 + 3] = tail(a30.reduceLanes(VectorOperators.ADD), w, w3, x, x0, c, cols);
        out[o1 + 3] = tail(a31.reduceLanes(VectorOperators.ADD), w, w3, x, x1, c, cols);
        out[o2 + 3] = tail(a32.reduceLanes(VectorOperators.ADD), w, w3, x, x2, c, cols);
        out[o3 + 3] = tail(a33.reduceLanes(VectorOperators.ADD), w, w3, x, x3, c, cols);
    }

    /** {@code sum} plus the scalar tail {@code w[wi+k]*x[xj+k]} for k in [from, cols). */
    private static float tail(float sum, float[] w, int wi, float[] x, int xj, int from, int cols) {
        for (int k = from; k < cols; k++) sum += w[wi + k] * x[xj + k];
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

    /**
     * Four decoded weight rows ({@code w[i*cols ..]}, i = 0..3) times activation row {@code b}: the
     * batch's rows left over after the 4x4 tiles. Each activation vector feeds four FMAs, where one
     * {@link #dot} per weight row loaded it four times. Writes {@code out[b*rows + r+i]}.
     */
    public static void dot4x1(float[] w, int cols, float[] x, int b, int rows, int r, float[] out) {
        int w1 = cols, w2 = 2 * cols, w3 = 3 * cols;
        int x0 = b * cols;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= cols - L; c += L) {
            FloatVector v = FloatVector.fromArray(F, x, x0 + c);
            a0 = FloatVector.fromArray(F, w, c).fma(v, a0);
            a1 = FloatVector.fromArray(F, w, w1 + c).fma(v, a1);
            a2 = FloatVector.fromArray(F, w, w2 + c).fma(v, a2);
            a3 = FloatVector.fromArray(F, w, w3 + c).fma(v, a3);
        }
        int o = b * rows + r;
        out[o] = tail(a0.reduceLanes(VectorOperators.ADD), w, 0, x, x0, c, cols);
        out[o + 1] = tail(a1.reduceLanes(VectorOperators.ADD), w, w1, x, x0, c, cols);
        out[o + 2] = tail(a2.reduceLanes(VectorOperators.ADD), w, w2, x, x0, c, cols);
        out[o + 3] = tail(a3.reduceLanes(VectorOperators.ADD), w, w3, x, x0, c, cols);
    }
}
