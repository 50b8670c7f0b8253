package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;

import static io.flashllm.kernels.cpu.Simd.F;

/**
 * {@link PanelKernel}'s register tile for 256-bit vectors (AVX2: eight lanes, sixteen registers):
 * six decoded weight rows times 16 prompt tokens held in two vectors, twelve accumulators, each
 * activation vector feeding six FMAs and each broadcast weight two. Twelve rows as at 512 bits
 * would need 24 of the 16 registers.
 */
public final class PanelKernel256 {
    /** Weight rows per panel. */
    public static final int ROWS = 6;
    /** Tokens per vector. */
    public static final int LANES = 8;

    private PanelKernel256() {}

    /** Whether these panel kernels can run: 8 float lanes per vector. */
    public static boolean usable() {
        return Simd.ENABLED && Simd.L == LANES;
    }

    /**
     * Six tile rows times 16 activation lanes (two vectors): 12 accumulators.
     * Adds into (or, when {@code first}, overwrites) {@code acc[accOff + r*P + lane]}.
     */
    public static void rows6x16(float[] tile, int kLen, float[] xT, int xOff, int p, float[] acc, int accOff, boolean first) {
        FloatVector a00 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 0 * p + 0);
        FloatVector a01 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 0 * p + 8);
        FloatVector a10 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 1 * p + 0);
        FloatVector a11 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 1 * p + 8);
        FloatVector a20 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 2 * p + 0);
        FloatVector a21 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 2 * p + 8);
        FloatVector a30 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 3 * p + 0);
        FloatVector a31 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 3 * p + 8);
        FloatVector a40 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 4 * p + 0);
        FloatVector a41 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 4 * p + 8);
        FloatVector a50 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 5 * p + 0);
        FloatVector a51 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 5 * p + 8);
        int t1 = 1 * kLen;
        int t2 = 2 * kLen;
        int t3 = 3 * kLen;
        int t4 = 4 * kLen;
        int t5 = 5 * kLen;
        for (int k = 0; k < kLen; k++) {
            int xo = xOff + k * p;
            FloatVector x0 = FloatVector.fromArray(F, xT, xo), x1 = FloatVector.fromArray(F, xT, xo + 8);
            FloatVector w0 = FloatVector.broadcast(F, tile[k]);
            a00 = x0.fma(w0, a00);
            a01 = x1.fma(w0, a01);
            FloatVector w1 = FloatVector.broadcast(F, tile[t1 + k]);
            a10 = x0.fma(w1, a10);
            a11 = x1.fma(w1, a11);
            FloatVector w2 = FloatVector.broadcast(F, tile[t2 + k]);
            a20 = x0.fma(w2, a20);
            a21 = x1.fma(w2, a21);
            FloatVector w3 = FloatVector.broadcast(F, tile[t3 + k]);
            a30 = x0.fma(w3, a30);
            a31 = x1.fma(w3, a31);
            FloatVector w4 = FloatVector.broadcast(F, tile[t4 + k]);
            a40 = x0.fma(w4, a40);
            a41 = x1.fma(w4, a41);
            FloatVector w5 = FloatVector.broadcast(F, tile[t5 + k]);
            a50 = x0.fma(w5, a50);
            a51 = x1.fma(w5, a51);
        }
        a00.intoArray(acc, accOff + 0 * p + 0);
        a01.intoArray(acc, accOff + 0 * p + 8);
        a10.intoArray(acc, accOff + 1 * p + 0);
        a11.intoArray(acc, accOff + 1 * p + 8);
        a20.intoArray(acc, accOff + 2 * p + 0);
        a21.intoArray(acc, accOff + 2 * p + 8);
        a30.intoArray(acc, accOff + 3 * p + 0);
        a31.intoArray(acc, accOff + 3 * p + 8);
        a40.intoArray(acc, accOff + 4 * p + 0);
        a41.intoArray(acc, accOff + 4 * p + 8);
        a50.intoArray(acc, accOff + 5 * p + 0);
        a51.intoArray(acc, accOff + 5 * p + 8);
    }

    /**
     * Six tile rows times 8 activation lanes: the last tokens of a batch that is not a multiple of 16.
     * Adds into (or, when {@code first}, overwrites) {@code acc[accOff + r*P + lane]}.
     */
    public static void rows6x8(float[] tile, int kLen, float[] xT, int xOff, int p, float[] acc, int accOff, boolean first) {
        FloatVector a00 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 0 * p + 0);
        FloatVector a10 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 1 * p + 0);
        FloatVector a20 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 2 * p + 0);
        FloatVector a30 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 3 * p + 0);
        FloatVector a40 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 4 * p + 0);
        FloatVector a50 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 5 * p + 0);
        int t1 = 1 * kLen;
        int t2 = 2 * kLen;
        int t3 = 3 * kLen;
        int t4 = 4 * kLen;
        int t5 = 5 * kLen;
        for (int k = 0; k < kLen; k++) {
            int xo = xOff + k * p;
            FloatVector x0 = FloatVector.fromArray(F, xT, xo);
            FloatVector w0 = FloatVector.broadcast(F, tile[k]);
            a00 = x0.fma(w0, a00);
            FloatVector w1 = FloatVector.broadcast(F, tile[t1 + k]);
            a10 = x0.fma(w1, a10);
            FloatVector w2 = FloatVector.broadcast(F, tile[t2 + k]);
            a20 = x0.fma(w2, a20);
            FloatVector w3 = FloatVector.broadcast(F, tile[t3 + k]);
            a30 = x0.fma(w3, a30);
            FloatVector w4 = FloatVector.broadcast(F, tile[t4 + k]);
            a40 = x0.fma(w4, a40);
            FloatVector w5 = FloatVector.broadcast(F, tile[t5 + k]);
            a50 = x0.fma(w5, a50);
        }
        a00.intoArray(acc, accOff + 0 * p + 0);
        a10.intoArray(acc, accOff + 1 * p + 0);
        a20.intoArray(acc, accOff + 2 * p + 0);
        a30.intoArray(acc, accOff + 3 * p + 0);
        a40.intoArray(acc, accOff + 4 * p + 0);
        a50.intoArray(acc, accOff + 5 * p + 0);
    }
}
