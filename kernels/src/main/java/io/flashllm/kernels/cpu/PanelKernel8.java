package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PanelKernel}'s twelve decoded weight rows times eight prompt tokens in 256-bit vectors, on a machine whose
 * vectors are 512 bits: the last eight tokens of a batch, or all of a batch of five to eight. A mixture of experts
 * routes each expert a handful of a prompt's tokens (gpt-oss: ~8 of 64), which padded to sixteen lanes spent half
 * of every multiply-add on zeros; eight lanes do the same work in half the vector width, as fast per useful
 * multiply-add where the FMA units are 256 bits wide (Zen 4 runs a 512-bit FMA as two halves) and no slower
 * elsewhere. Twelve accumulators: per column one activation vector and twelve broadcast weights.
 */
public final class PanelKernel8 {
    /** Tokens per vector. */
    public static final int LANES = 8;
    private static final VectorSpecies<Float> F8 = FloatVector.SPECIES_256;

    private PanelKernel8() {}

    /** Whether it pays here: the machine's own panels are 512 bits (at 256 bits {@link PanelKernel256} has eight lanes). */
    public static boolean usable() {
        return PanelKernel.usable();
    }

    /**
     * Twelve tile rows times 8 activation lanes: 12 accumulators.
     * Adds into (or, when {@code first}, overwrites) {@code acc[accOff + r*P + lane]}.
     */
    public static void rows12x8(float[] tile, int kLen, float[] xT, int xOff, int p, float[] acc, int accOff, boolean first) {
        FloatVector a0 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 0 * p);
        FloatVector a1 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 1 * p);
        FloatVector a2 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 2 * p);
        FloatVector a3 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 3 * p);
        FloatVector a4 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 4 * p);
        FloatVector a5 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 5 * p);
        FloatVector a6 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 6 * p);
        FloatVector a7 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 7 * p);
        FloatVector a8 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 8 * p);
        FloatVector a9 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 9 * p);
        FloatVector a10 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 10 * p);
        FloatVector a11 = first ? FloatVector.zero(F8) : FloatVector.fromArray(F8, acc, accOff + 11 * p);
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
            FloatVector x = FloatVector.fromArray(F8, xT, xOff + k * p);
            a0 = x.fma(FloatVector.broadcast(F8, tile[k]), a0);
            a1 = x.fma(FloatVector.broadcast(F8, tile[t1 + k]), a1);
            a2 = x.fma(FloatVector.broadcast(F8, tile[t2 + k]), a2);
            a3 = x.fma(FloatVector.broadcast(F8, tile[t3 + k]), a3);
            a4 = x.fma(FloatVector.broadcast(F8, tile[t4 + k]), a4);
            a5 = x.fma(FloatVector.broadcast(F8, tile[t5 + k]), a5);
            a6 = x.fma(FloatVector.broadcast(F8, tile[t6 + k]), a6);
            a7 = x.fma(FloatVector.broadcast(F8, tile[t7 + k]), a7);
            a8 = x.fma(FloatVector.broadcast(F8, tile[t8 + k]), a8);
            a9 = x.fma(FloatVector.broadcast(F8, tile[t9 + k]), a9);
            a10 = x.fma(FloatVector.broadcast(F8, tile[t10 + k]), a10);
            a11 = x.fma(FloatVector.broadcast(F8, tile[t11 + k]), a11);
        }
        a0.intoArray(acc, accOff + 0 * p);
        a1.intoArray(acc, accOff + 1 * p);
        a2.intoArray(acc, accOff + 2 * p);
        a3.intoArray(acc, accOff + 3 * p);
        a4.intoArray(acc, accOff + 4 * p);
        a5.intoArray(acc, accOff + 5 * p);
        a6.intoArray(acc, accOff + 6 * p);
        a7.intoArray(acc, accOff + 7 * p);
        a8.intoArray(acc, accOff + 8 * p);
        a9.intoArray(acc, accOff + 9 * p);
        a10.intoArray(acc, accOff + 10 * p);
        a11.intoArray(acc, accOff + 11 * p);
    }
}
