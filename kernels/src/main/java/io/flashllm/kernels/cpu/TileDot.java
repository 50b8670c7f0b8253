package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;

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
        FloatVector fold1 = a0.add(a1);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float sum = fold1.lane(0) + fold1.lane(1);
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
        FloatVector fold2 = a00.add(a00.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o0] = tail((fold2.lane(0) + fold2.lane(1)), w, 0, x, x0, c, cols);
        FloatVector fold3 = a01.add(a01.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o1] = tail((fold3.lane(0) + fold3.lane(1)), w, 0, x, x1, c, cols);
        FloatVector fold4 = a02.add(a02.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o2] = tail((fold4.lane(0) + fold4.lane(1)), w, 0, x, x2, c, cols);
        FloatVector fold5 = a03.add(a03.rearrange(Simd.FOLD_1));
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o3] = tail((fold5.lane(0) + fold5.lane(1)), w, 0, x, x3, c, cols);
        FloatVector fold6 = a10.add(a10.rearrange(Simd.FOLD_1));
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o0 + 1] = tail((fold6.lane(0) + fold6.lane(1)), w, w1, x, x0, c, cols);
        FloatVector fold7 = a11.add(a11.rearrange(Simd.FOLD_1));
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o1 + 1] = tail((fold7.lane(0) + fold7.lane(1)), w, w1, x, x1, c, cols);
        FloatVector fold8 = a12.add(a12.rearrange(Simd.FOLD_1));
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o2 + 1] = tail((fold8.lane(0) + fold8.lane(1)), w, w1, x, x2, c, cols);
        FloatVector fold9 = a13.add(a13.rearrange(Simd.FOLD_1));
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o3 + 1] = tail((fold9.lane(0) + fold9.lane(1)), w, w1, x, x3, c, cols);
        FloatVector fold10 = a20.add(a20.rearrange(Simd.FOLD_1));
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o0 + 2] = tail((fold10.lane(0) + fold10.lane(1)), w, w2, x, x0, c, cols);
        FloatVector fold11 = a21.add(a21.rearrange(Simd.FOLD_1));
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o1 + 2] = tail((fold11.lane(0) + fold11.lane(1)), w, w2, x, x1, c, cols);
        FloatVector fold12 = a22.add(a22.rearrange(Simd.FOLD_1));
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o2 + 2] = tail((fold12.lane(0) + fold12.lane(1)), w, w2, x, x2, c, cols);
        FloatVector fold13 = a23.add(a23.rearrange(Simd.FOLD_1));
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o3 + 2] = tail((fold13.lane(0) + fold13.lane(1)), w, w2, x, x3, c, cols);
        FloatVector fold14 = a30.add(a30.rearrange(Simd.FOLD_1));
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o0 + 3] = tail((fold14.lane(0) + fold14.lane(1)), w, w3, x, x0, c, cols);
        FloatVector fold15 = a31.add(a31.rearrange(Simd.FOLD_1));
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o1 + 3] = tail((fold15.lane(0) + fold15.lane(1)), w, w3, x, x1, c, cols);
        FloatVector fold16 = a32.add(a32.rearrange(Simd.FOLD_1));
        fold16 = fold16.add(fold16.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold16 = fold16.add(fold16.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o2 + 3] = tail((fold16.lane(0) + fold16.lane(1)), w, w3, x, x2, c, cols);
        FloatVector fold17 = a33.add(a33.rearrange(Simd.FOLD_1));
        fold17 = fold17.add(fold17.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold17 = fold17.add(fold17.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o3 + 3] = tail((fold17.lane(0) + fold17.lane(1)), w, w3, x, x3, c, cols);
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
        FloatVector fold18 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold18 = fold18.add(fold18.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold18 = fold18.add(fold18.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        FloatVector fold19 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold19 = fold19.add(fold19.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold19 = fold19.add(fold19.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float s0 = (fold18.lane(0) + fold18.lane(1)), s1 = fold19.lane(0) + fold19.lane(1);
        FloatVector fold20 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold20 = fold20.add(fold20.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold20 = fold20.add(fold20.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        FloatVector fold21 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold21 = fold21.add(fold21.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold21 = fold21.add(fold21.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float s2 = (fold20.lane(0) + fold20.lane(1)), s3 = fold21.lane(0) + fold21.lane(1);
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
        FloatVector fold22 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold22 = fold22.add(fold22.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold22 = fold22.add(fold22.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o] = tail((fold22.lane(0) + fold22.lane(1)), w, 0, x, x0, c, cols);
        FloatVector fold23 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold23 = fold23.add(fold23.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold23 = fold23.add(fold23.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o + 1] = tail((fold23.lane(0) + fold23.lane(1)), w, w1, x, x0, c, cols);
        FloatVector fold24 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold24 = fold24.add(fold24.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold24 = fold24.add(fold24.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o + 2] = tail((fold24.lane(0) + fold24.lane(1)), w, w2, x, x0, c, cols);
        FloatVector fold25 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold25 = fold25.add(fold25.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold25 = fold25.add(fold25.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[o + 3] = tail((fold25.lane(0) + fold25.lane(1)), w, w3, x, x0, c, cols);
    }
}
