package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q5_K (Q5_K_M and Q5_K_S downloads): super-blocks of 176 bytes, Q4_K's d, dmin, packed scales and
 * mins and nibble layout, plus 32 bytes of fifth bits before the nibbles: weight l of sub-block k
 * (0..7) takes bit k of byte l. Weight = d·scale·q − dmin·min, q in 0..31.
 */
class Q5KKernel extends SubBlockKernel {
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;

    Q5KKernel() {
        super(256, 176);
    }

    /**
     * 512-bit vectors: decoded in registers, a pair of sub-blocks (32 bytes of nibbles) per step.
     * The fifth bits of both come from the same 32 qh bytes, each moved to bit 4 by one shift. The
     * mins' share is each sub-block's min times its sum of x, accumulated apart.
     */
    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        if (L != 16) return super.dot(s, off, cols, x, xOff);
        Buffers buf = buffers();
        float[] scale = buf.scale, min = buf.min;
        FloatVector acc = FloatVector.zero(F), accMin = acc;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long bo = off + 176L * b;
            int xb = xOff + 256 * b;
            scales(s, bo, scale, 0, min); // apart from the vector loop, which must stay within C2's inlining budget
            // x86 has no byte shifts: shifts run in 16-bit lanes, and each result is masked to bits
            // that came from its own byte
            ShortVector h = ByteVector.fromMemorySegment(B32, s, bo + 16, LE).reinterpretAsShorts();
            for (int pair = 0; pair < 4; pair++) {
                ByteVector v = ByteVector.fromMemorySegment(B32, s, bo + 48 + 32 * pair, LE);
                int bit = 2 * pair; // the low nibbles' fifth bit; bit + 1 the high nibbles'
                ShortVector fl = bit <= 4 ? h.lanewise(VectorOperators.LSHL, 4 - bit)
                        : h.lanewise(VectorOperators.LSHR, bit - 4);
                ShortVector fh = bit + 1 <= 4 ? h.lanewise(VectorOperators.LSHL, 3 - bit)
                        : h.lanewise(VectorOperators.LSHR, bit - 3);
                ByteVector lo = v.and((byte) 15).or(fl.reinterpretAsBytes().and((byte) 16));
                ByteVector hi = v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(fh.reinterpretAsBytes().and((byte) 16));
                int xl = xb + 64 * pair, xh = xl + 32;
                FloatVector a0 = FloatVector.fromArray(F, x, xl), a1 = FloatVector.fromArray(F, x, xl + 16);
                FloatVector c0 = FloatVector.fromArray(F, x, xh), c1 = FloatVector.fromArray(F, x, xh + 16);
                FloatVector pl = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(a0);
                pl = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).fma(a1, pl);
                FloatVector ph = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(c0);
                ph = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).fma(c1, ph);
                int kl = 2 * pair, kh = kl + 1;
                acc = pl.fma(FloatVector.broadcast(F, scale[kl]), acc);
                acc = ph.fma(FloatVector.broadcast(F, scale[kh]), acc);
                accMin = a0.add(a1).fma(FloatVector.broadcast(F, min[kl]), accMin);
                accMin = c0.add(c1).fma(FloatVector.broadcast(F, min[kh]), accMin);
            }
        }
        FloatVector fold1 = acc.add(accMin);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /**
     * 512-bit vectors, two rows: {@link #dot}'s decode per row, the activations loaded once for
     * both rows, the mins' share taken as eight scalar products per super-block and row against
     * {@link #prepare}'s sums of x. Boxed in some runs unless the JVM has
     * {@link io.flashllm.kernels.JitFlags#FLAGS}. Four rows are two calls of this (RowKernel's
     * {@code dot4}): the same code written out for four rows ran its vector operations through
     * the library's Java fallbacks in 6 of 10 fresh JVMs (JFR; 25-47 ms a 1024 × 2048 product
     * against 0.26-0.37 for two calls, kernels/README.md).
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        if (L != 16) {
            super.dot2(s, off0, off1, cols, x, xOff, prep, out, outOff);
            return;
        }
        Buffers buf = buffers();
        float[] sc = buf.scale4, mn = buf.min;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        float min0 = 0, min1 = 0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long d = 176L * b;
            long o0 = off0 + d, o1 = off1 + d;
            // scales and the mins' share apart from the vector loop, which must stay within C2's budget
            min0 += scalesAndMins(s, o0, sc, 0, mn, prep, 8 * b);
            min1 += scalesAndMins(s, o1, sc, 8, mn, prep, 8 * b);
            ShortVector h0 = ByteVector.fromMemorySegment(B32, s, o0 + 16, LE).reinterpretAsShorts();
            ShortVector h1 = ByteVector.fromMemorySegment(B32, s, o1 + 16, LE).reinterpretAsShorts();
            for (int pair = 0; pair < 4; pair++) {
                int bit = 2 * pair, kl = bit, kh = bit + 1;
                int xl = xOff + 256 * b + 64 * pair, xh = xl + 32;
                FloatVector a0 = FloatVector.fromArray(F, x, xl), a1 = FloatVector.fromArray(F, x, xl + 16);
                FloatVector c0 = FloatVector.fromArray(F, x, xh), c1 = FloatVector.fromArray(F, x, xh + 16);
                ByteVector v0 = ByteVector.fromMemorySegment(B32, s, o0 + 48 + 32 * pair, LE);
                ShortVector fl0 = bit <= 4 ? h0.lanewise(VectorOperators.LSHL, 4 - bit)
                        : h0.lanewise(VectorOperators.LSHR, bit - 4);
                ShortVector fh0 = bit + 1 <= 4 ? h0.lanewise(VectorOperators.LSHL, 3 - bit)
                        : h0.lanewise(VectorOperators.LSHR, bit - 3);
                ByteVector lo0 = v0.and((byte) 15).or(fl0.reinterpretAsBytes().and((byte) 16));
                ByteVector hi0 = v0.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(fh0.reinterpretAsBytes().and((byte) 16));
                FloatVector pl0 = ((FloatVector) lo0.convertShape(VectorOperators.B2F, F, 0)).mul(a0);
                pl0 = ((FloatVector) lo0.convertShape(VectorOperators.B2F, F, 1)).fma(a1, pl0);
                FloatVector ph0 = ((FloatVector) hi0.convertShape(VectorOperators.B2F, F, 0)).mul(c0);
                ph0 = ((FloatVector) hi0.convertShape(VectorOperators.B2F, F, 1)).fma(c1, ph0);
                acc0 = pl0.fma(FloatVector.broadcast(F, sc[kl]), acc0);
                acc0 = ph0.fma(FloatVector.broadcast(F, sc[kh]), acc0);
                ByteVector v1 = ByteVector.fromMemorySegment(B32, s, o1 + 48 + 32 * pair, LE);
                ShortVector fl1 = bit <= 4 ? h1.lanewise(VectorOperators.LSHL, 4 - bit)
                        : h1.lanewise(VectorOperators.LSHR, bit - 4);
                ShortVector fh1 = bit + 1 <= 4 ? h1.lanewise(VectorOperators.LSHL, 3 - bit)
                        : h1.lanewise(VectorOperators.LSHR, bit - 3);
                ByteVector lo1 = v1.and((byte) 15).or(fl1.reinterpretAsBytes().and((byte) 16));
                ByteVector hi1 = v1.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(fh1.reinterpretAsBytes().and((byte) 16));
                FloatVector pl1 = ((FloatVector) lo1.convertShape(VectorOperators.B2F, F, 0)).mul(a0);
                pl1 = ((FloatVector) lo1.convertShape(VectorOperators.B2F, F, 1)).fma(a1, pl1);
                FloatVector ph1 = ((FloatVector) hi1.convertShape(VectorOperators.B2F, F, 0)).mul(c0);
                ph1 = ((FloatVector) hi1.convertShape(VectorOperators.B2F, F, 1)).fma(c1, ph1);
                acc1 = pl1.fma(FloatVector.broadcast(F, sc[8 + kl]), acc1);
                acc1 = ph1.fma(FloatVector.broadcast(F, sc[8 + kh]), acc1);
            }
        }
        FloatVector fold2 = acc0.add(acc0.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = (fold2.lane(0) + fold2.lane(1)) + min0;
        FloatVector fold3 = acc1.add(acc1.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = (fold3.lane(0) + fold3.lane(1)) + min1;
    }

    /**
     * Writes the super-block's eight d·scale to {@code scale[at ..]} (−dmin·min to {@code min}) and
     * returns the mins' share of its product: −dmin·min times the sum of x, over the sub-blocks.
     */
    private static float scalesAndMins(MemorySegment s, long block, float[] scale, int at, float[] min, float[] sums,
                                       int sumAt) {
        scales(s, block, scale, at, min);
        float share = 0;
        for (int k = 0; k < 8; k++) share += min[k] * sums[sumAt + k];
        return share;
    }

    /**
     * The eight sub-blocks' d·scale (into {@code scale[at ..]}) and −dmin·min of the super-block
     * at {@code block}.
     */
    private static void scales(MemorySegment s, long block, float[] scale, int at, float[] min) {
        float d = HALF[s.get(SHORT_LE, block) & 0xffff];
        float dmin = HALF[s.get(SHORT_LE, block + 2) & 0xffff];
        long packedLo = s.get(LONG_LE, block + 4);
        int packedHi = s.get(INT_LE, block + 12);
        // Q4KKernel.scale/min for k and k + 4, without their branch on k (this runs per super-block)
        for (int k = 0; k < 4; k++) {
            scale[at + k] = d * ((int) (packedLo >>> (8 * k)) & 63);
            min[k] = -dmin * ((int) (packedLo >>> (8 * k + 32)) & 63);
            scale[at + k + 4] = d * (((packedHi >>> (8 * k)) & 15) | (((int) (packedLo >>> (8 * k + 6)) & 3) << 4));
            min[k + 4] = -dmin * (((packedHi >>> (8 * k + 4)) & 15) | (((int) (packedLo >>> (8 * k + 38)) & 3) << 4));
        }
    }

    @Override
    void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min) {
        scales(s, block, scale, 0, min);
        for (int half = 0; half < 2; half++) {
            ByteVector h = ByteVector.fromMemorySegment(B16, s, block + 16 + 16 * half, LE);
            for (int pair = 0; pair < 4; pair++) {
                // sub-blocks 2·pair (low nibbles, fifth bit 2·pair) and 2·pair + 1 (high nibbles)
                ByteVector v = ByteVector.fromMemorySegment(B16, s, block + 48 + 32 * pair + 16 * half, LE);
                int bitLo = 2 * pair, bitHi = bitLo + 1;
                ByteVector fifthLo = bitLo <= 4 ? h.lanewise(VectorOperators.LSHL, 4 - bitLo)
                        : h.lanewise(VectorOperators.LSHR, bitLo - 4);
                ByteVector fifthHi = bitHi <= 4 ? h.lanewise(VectorOperators.LSHL, 4 - bitHi)
                        : h.lanewise(VectorOperators.LSHR, bitHi - 4);
                v.and((byte) 15).or(fifthLo.and((byte) 16)).intoArray(q, 64 * pair + 16 * half);
                v.lanewise(VectorOperators.LSHR, 4).or(fifthHi.and((byte) 16)).intoArray(q, 64 * pair + 32 + 16 * half);
            }
        }
    }
}
