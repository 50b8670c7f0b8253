package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q4_K for 128-bit vectors: super-blocks of 144 bytes (d, dmin, 12 bytes of packed 6-bit scales
 * and mins, 128 bytes of nibbles: each 32 bytes hold sub-block 2p in the low and 2p+1 in the high
 * nibbles); weight = d·scale·q − dmin·min.
 */
final class Q4KNarrowKernel extends NarrowBlockKernel {
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;

    Q4KNarrowKernel() {
        super(144);
    }

    /** Sums of x per sub-block of 32, for the mins' share of {@link #dot2}. */
    @Override
    public int prepSize(int cols) {
        return cols / 32;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        for (int b = 0, subs = cols / 32; b < subs; b++) prep[b] = Simd.sum32(x, xOff + 32 * b);
    }

    /**
     * Two rows decoded in registers, eight nibble bytes at a time (the low nibbles of sub-block 2p,
     * the high of 2p+1), the activations loaded once for both rows; each sub-block's products are
     * scaled once and its mins' share is -dmin*min times {@link #prepare}'s sum of x. Rows are
     * written out: a helper taking vectors that C2 does not inline boxes them.
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        float min0 = 0, min1 = 0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long o0 = off0 + 144L * b, o1 = off1 + 144L * b;
            float d0 = HALF[s.get(SHORT_LE, o0) & 0xffff], dmin0 = HALF[s.get(SHORT_LE, o0 + 2) & 0xffff];
            float d1 = HALF[s.get(SHORT_LE, o1) & 0xffff], dmin1 = HALF[s.get(SHORT_LE, o1 + 2) & 0xffff];
            long lo0 = s.get(LONG_LE, o0 + 4), lo1 = s.get(LONG_LE, o1 + 4);
            int hi0 = s.get(INT_LE, o0 + 12), hi1 = s.get(INT_LE, o1 + 12);
            for (int k = 0; k < 8; k++) {
                float sx = prep[8 * b + k];
                min0 -= dmin0 * Q4KKernel.min(lo0, hi0, k) * sx;
                min1 -= dmin1 * Q4KKernel.min(lo1, hi1, k) * sx;
            }
            for (int pair = 0; pair < 4; pair++) {
                int xl = xOff + 256 * b + 64 * pair, xh = xl + 32;
                FloatVector pl0 = FloatVector.zero(F), ph0 = pl0, pl1 = pl0, ph1 = pl0;
                for (int j = 0; j < 32; j += 8) {
                    FloatVector xl0 = FloatVector.fromArray(F, x, xl + j), xl1 = FloatVector.fromArray(F, x, xl + j + 4);
                    FloatVector xh0 = FloatVector.fromArray(F, x, xh + j), xh1 = FloatVector.fromArray(F, x, xh + j + 4);
                    ByteVector q0 = ByteVector.fromMemorySegment(B8, s, o0 + 16 + 32L * pair + j, LE);
                    ByteVector l0 = q0.and((byte) 15), h0 = q0.lanewise(VectorOperators.LSHR, 4);
                    pl0 = ((FloatVector) l0.convertShape(VectorOperators.B2F, F, 0)).fma(xl0, pl0);
                    pl0 = ((FloatVector) l0.convertShape(VectorOperators.B2F, F, 1)).fma(xl1, pl0);
                    ph0 = ((FloatVector) h0.convertShape(VectorOperators.B2F, F, 0)).fma(xh0, ph0);
                    ph0 = ((FloatVector) h0.convertShape(VectorOperators.B2F, F, 1)).fma(xh1, ph0);
                    ByteVector q1 = ByteVector.fromMemorySegment(B8, s, o1 + 16 + 32L * pair + j, LE);
                    ByteVector l1 = q1.and((byte) 15), h1 = q1.lanewise(VectorOperators.LSHR, 4);
                    pl1 = ((FloatVector) l1.convertShape(VectorOperators.B2F, F, 0)).fma(xl0, pl1);
                    pl1 = ((FloatVector) l1.convertShape(VectorOperators.B2F, F, 1)).fma(xl1, pl1);
                    ph1 = ((FloatVector) h1.convertShape(VectorOperators.B2F, F, 0)).fma(xh0, ph1);
                    ph1 = ((FloatVector) h1.convertShape(VectorOperators.B2F, F, 1)).fma(xh1, ph1);
                }
                acc0 = pl0.fma(FloatVector.broadcast(F, d0 * Q4KKernel.scale(lo0, hi0, 2 * pair)), acc0);
                acc0 = ph0.fma(FloatVector.broadcast(F, d0 * Q4KKernel.scale(lo0, hi0, 2 * pair + 1)), acc0);
                acc1 = pl1.fma(FloatVector.broadcast(F, d1 * Q4KKernel.scale(lo1, hi1, 2 * pair)), acc1);
                acc1 = ph1.fma(FloatVector.broadcast(F, d1 * Q4KKernel.scale(lo1, hi1, 2 * pair + 1)), acc1);
            }
        }
        FloatVector fold1 = acc0.add(acc0.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = (fold1.lane(0) + fold1.lane(1)) + min0;
        FloatVector fold2 = acc1.add(acc1.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = (fold2.lane(0) + fold2.lane(1)) + min1;
    }

    @Override
    void decode(MemorySegment s, long block, float[] out, int outOff) {
        float d = HALF[s.get(SHORT_LE, block) & 0xffff];
        float dmin = HALF[s.get(SHORT_LE, block + 2) & 0xffff];
        long packedLo = s.get(LONG_LE, block + 4); // the 12 bytes of 6-bit scales and mins, as Q4KKernel reads them
        int packedHi = s.get(INT_LE, block + 12);
        for (int pair = 0; pair < 4; pair++) {
            int lo = 2 * pair, hi = lo + 1;
            float sLo = d * Q4KKernel.scale(packedLo, packedHi, lo), mLo = -dmin * Q4KKernel.min(packedLo, packedHi, lo);
            float sHi = d * Q4KKernel.scale(packedLo, packedHi, hi), mHi = -dmin * Q4KKernel.min(packedLo, packedHi, hi);
            int oLo = outOff + 32 * lo, oHi = outOff + 32 * hi;
            for (int j = 0; j < 32; j += 8) {
                ByteVector q = ByteVector.fromMemorySegment(B8, s, block + 16 + 32L * pair + j, LE);
                ByteVector l = q.and((byte) 15), h = q.lanewise(VectorOperators.LSHR, 4);
                ((FloatVector) l.convertShape(VectorOperators.B2F, F, 0)).fma(sLo, mLo).intoArray(out, oLo + j);
                ((FloatVector) l.convertShape(VectorOperators.B2F, F, 1)).fma(sLo, mLo).intoArray(out, oLo + j + 4);
                ((FloatVector) h.convertShape(VectorOperators.B2F, F, 0)).fma(sHi, mHi).intoArray(out, oHi + j);
                ((FloatVector) h.convertShape(VectorOperators.B2F, F, 1)).fma(sHi, mHi).intoArray(out, oHi + j + 4);
            }
        }
    }
}
