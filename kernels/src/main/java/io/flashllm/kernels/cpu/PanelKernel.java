package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;

import static io.flashllm.kernels.cpu.Simd.F;

/**
 * The register tile of batched prompt processing: a panel of twelve decoded weight rows times the
 * transposed activations of 16 or 32 prompt tokens. The activations are vectorized across tokens
 * ({@code xT[k * p + token]}) and each weight is broadcast, so every activation vector loaded feeds
 * twelve FMAs, every weight loaded feeds one or two, and no horizontal reduction is ever needed:
 * the accumulators hold the outputs of 16 tokens for one row each. With 24 accumulators the loop
 * stays on the FMA units (measured ~63 GFMA per CPU-second on one core with the operands in L2,
 * against ~32 for the previous 4x4 dot-product tile, which reloaded both operands from L2).
 *
 * <p>Needs 512-bit vectors (32 registers of 16 lanes): the loops are written out flat, since a
 * vector that crosses a call C2 declines to inline gets boxed.
 */
public final class PanelKernel {
    /** Weight rows per panel. */
    public static final int ROWS = 12;
    /** Tokens per vector. */
    public static final int LANES = 16;

    private PanelKernel() {}

    /** Whether the panel kernels can run: 16 float lanes per vector. */
    public static boolean usable() {
        return Simd.ENABLED && Simd.L == LANES;
    }

    /**
     * Twelve tile rows times 32 activation lanes: 24 accumulators; per column one
     * pair of activation vectors and twelve broadcast weights.
     * Adds into (or, when {@code first}, overwrites) {@code acc[accOff + r*P + lane]}.
     */
    public static void rows12x32(float[] tile, int kLen, float[] xT, int xOff, int p, float[] acc, int accOff, boolean first) {
        FloatVector a00 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 0 * p + 0);
        FloatVector a01 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 0 * p + 16);
        FloatVector a10 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 1 * p + 0);
        FloatVector a11 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 1 * p + 16);
        FloatVector a20 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 2 * p + 0);
        FloatVector a21 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 2 * p + 16);
        FloatVector a30 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 3 * p + 0);
        FloatVector a31 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 3 * p + 16);
        FloatVector a40 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 4 * p + 0);
        FloatVector a41 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 4 * p + 16);
        FloatVector a50 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 5 * p + 0);
        FloatVector a51 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 5 * p + 16);
        FloatVector a60 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 6 * p + 0);
        FloatVector a61 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 6 * p + 16);
        FloatVector a70 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 7 * p + 0);
        FloatVector a71 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 7 * p + 16);
        FloatVector a80 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 8 * p + 0);
        FloatVector a81 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 8 * p + 16);
        FloatVector a90 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 9 * p + 0);
        FloatVector a91 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 9 * p + 16);
        FloatVector a100 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 10 * p + 0);
        FloatVector a101 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 10 * p + 16);
        FloatVector a110 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 11 * p + 0);
        FloatVector a111 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 11 * p + 16);
        int t1 = 1 * kLen;
        int t2 = 2 * kLen;
        int t3 = 3 * kLen;
        int t4 = 4 * kLen;
        int t5 = 5 * kLen;
        int t6 = 6 * kLen;
        int t7 = 7 * kLen;
        int t8 = 8 * kLen;
        int t9 = 9 * kLen;
        int t10 = 10 * kLen;
        int t11 = 11 * kLen;
        for (int k = 0; k < kLen; k++) {
            int xo = xOff + k * p;
            FloatVector x0 = FloatVector.fromArray(F, xT, xo), x1 = FloatVector.fromArray(F, xT, xo + 16);
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
            FloatVector w6 = FloatVector.broadcast(F, tile[t6 + k]);
            a60 = x0.fma(w6, a60);
            a61 = x1.fma(w6, a61);
            FloatVector w7 = FloatVector.broadcast(F, tile[t7 + k]);
            a70 = x0.fma(w7, a70);
            a71 = x1.fma(w7, a71);
            FloatVector w8 = FloatVector.broadcast(F, tile[t8 + k]);
            a80 = x0.fma(w8, a80);
            a81 = x1.fma(w8, a81);
            FloatVector w9 = FloatVector.broadcast(F, tile[t9 + k]);
            a90 = x0.fma(w9, a90);
            a91 = x1.fma(w9, a91);
            FloatVector w10 = FloatVector.broadcast(F, tile[t10 + k]);
            a100 = x0.fma(w10, a100);
            a101 = x1.fma(w10, a101);
            FloatVector w11 = FloatVector.broadcast(F, tile[t11 + k]);
            a110 = x0.fma(w11, a110);
            a111 = x1.fma(w11, a111);
        }
        a00.intoArray(acc, accOff + 0 * p + 0);
        a01.intoArray(acc, accOff + 0 * p + 16);
        a10.intoArray(acc, accOff + 1 * p + 0);
        a11.intoArray(acc, accOff + 1 * p + 16);
        a20.intoArray(acc, accOff + 2 * p + 0);
        a21.intoArray(acc, accOff + 2 * p + 16);
        a30.intoArray(acc, accOff + 3 * p + 0);
        a31.intoArray(acc, accOff + 3 * p + 16);
        a40.intoArray(acc, accOff + 4 * p + 0);
        a41.intoArray(acc, accOff + 4 * p + 16);
        a50.intoArray(acc, accOff + 5 * p + 0);
        a51.intoArray(acc, accOff + 5 * p + 16);
        a60.intoArray(acc, accOff + 6 * p + 0);
        a61.intoArray(acc, accOff + 6 * p + 16);
        a70.intoArray(acc, accOff + 7 * p + 0);
        a71.intoArray(acc, accOff + 7 * p + 16);
        a80.intoArray(acc, accOff + 8 * p + 0);
        a81.intoArray(acc, accOff + 8 * p + 16);
        a90.intoArray(acc, accOff + 9 * p + 0);
        a91.intoArray(acc, accOff + 9 * p + 16);
        a100.intoArray(acc, accOff + 10 * p + 0);
        a101.intoArray(acc, accOff + 10 * p + 16);
        a110.intoArray(acc, accOff + 11 * p + 0);
        a111.intoArray(acc, accOff + 11 * p + 16);
    }

    /**
     * Twelve tile rows times 16 activation lanes: 12 accumulators; per column one
     * activation vector and twelve broadcast weights.
     * Adds into (or, when {@code first}, overwrites) {@code acc[accOff + r*P + lane]}.
     */
    public static void rows12x16(float[] tile, int kLen, float[] xT, int xOff, int p, float[] acc, int accOff, boolean first) {
        FloatVector a00 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 0 * p + 0);
        FloatVector a10 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 1 * p + 0);
        FloatVector a20 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 2 * p + 0);
        FloatVector a30 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 3 * p + 0);
        FloatVector a40 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 4 * p + 0);
        FloatVector a50 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 5 * p + 0);
        FloatVector a60 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 6 * p + 0);
        FloatVector a70 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 7 * p + 0);
        FloatVector a80 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 8 * p + 0);
        FloatVector a90 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 9 * p + 0);
        FloatVector a100 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 10 * p + 0);
        FloatVector a110 = first ? FloatVector.zero(F) : FloatVector.fromArray(F, acc, accOff + 11 * p + 0);
        int t1 = 1 * kLen;
        int t2 = 2 * kLen;
        int t3 = 3 * kLen;
        int t4 = 4 * kLen;
        int t5 = 5 * kLen;
        int t6 = 6 * kLen;
        int t7 = 7 * kLen;
        int t8 = 8 * kLen;
        int t9 = 9 * kLen;
        int t10 = 10 * kLen;
        int t11 = 11 * kLen;
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
            FloatVector w6 = FloatVector.broadcast(F, tile[t6 + k]);
            a60 = x0.fma(w6, a60);
            FloatVector w7 = FloatVector.broadcast(F, tile[t7 + k]);
            a70 = x0.fma(w7, a70);
            FloatVector w8 = FloatVector.broadcast(F, tile[t8 + k]);
            a80 = x0.fma(w8, a80);
            FloatVector w9 = FloatVector.broadcast(F, tile[t9 + k]);
            a90 = x0.fma(w9, a90);
            FloatVector w10 = FloatVector.broadcast(F, tile[t10 + k]);
            a100 = x0.fma(w10, a100);
            FloatVector w11 = FloatVector.broadcast(F, tile[t11 + k]);
            a110 = x0.fma(w11, a110);
        }
        a00.intoArray(acc, accOff + 0 * p + 0);
        a10.intoArray(acc, accOff + 1 * p + 0);
        a20.intoArray(acc, accOff + 2 * p + 0);
        a30.intoArray(acc, accOff + 3 * p + 0);
        a40.intoArray(acc, accOff + 4 * p + 0);
        a50.intoArray(acc, accOff + 5 * p + 0);
        a60.intoArray(acc, accOff + 6 * p + 0);
        a70.intoArray(acc, accOff + 7 * p + 0);
        a80.intoArray(acc, accOff + 8 * p + 0);
        a90.intoArray(acc, accOff + 9 * p + 0);
        a100.intoArray(acc, accOff + 10 * p + 0);
        a110.intoArray(acc, accOff + 11 * p + 0);
    }
}
