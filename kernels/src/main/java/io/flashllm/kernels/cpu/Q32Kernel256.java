package io.flashllm.kernels.cpu;

import io.flashllm.kernels.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q4_1, Q5_0 and Q5_1 with 256-bit vectors (AVX2): {@link Q32Kernel}'s block decoded in registers
 * for eight lanes, where the width-independent path decoded every block into a buffer first (llama
 * 1.1B Q5_0 decoded at 4 tok/s that way with AVX2, 25 with AVX-512). A block's 16 nibble bytes are
 * two 8-byte loads zero-extended to int lanes; elements 0..7 and 8..15 are their low nibbles,
 * 16..31 their high ones. The fifth bit of element e is bit e of qh: one broadcast of qh per half
 * block, moved into place by a variable shift per eight lanes. The second row of {@link #dot2}
 * reads its own copy of x from {@code prep}, as in {@link Q4KKernel256}: loads of the same x for
 * both rows are merged by the JIT into values held across both, more than sixteen registers hold.
 */
final class Q32Kernel256 extends Q32Kernel {
    /** Lane i holds i, and 8 + i: the shifts that bring bit i (8 + i) of a broadcast qh to lane i. */
    private static final IntVector SHIFT0 = IntVector.fromArray(I, new int[]{0, 1, 2, 3, 4, 5, 6, 7}, 0);
    private static final IntVector SHIFT8 = SHIFT0.add(8);

    Q32Kernel256(GgmlType type) {
        super(type);
        if (Simd.L != 8) throw new IllegalStateException("Q32Kernel256 needs 8 float lanes, have " + Simd.L);
    }

    /** The sums of x per block of 32 (the offsets' share), then a copy of x for {@link #dot2}'s second row. */
    @Override
    public int prepSize(int cols) {
        return sumsAndCopySize(cols);
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        sumsAndCopy(x, xOff, cols, prep);
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(F), accMin = acc;
        int bytes = blockBytes(), qhOff = offset ? 4 : 2;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long o = off + (long) bytes * b;
            int xb = xOff + 32 * b;
            float d = HALF[s.get(SHORT_LE, o) & 0xffff];
            float mn = offset ? HALF[s.get(SHORT_LE, o + 2) & 0xffff] : -16 * d;
            IntVector u0 = (IntVector) ByteVector.fromMemorySegment(B, s, o + qsOff, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u1 = (IntVector) ByteVector.fromMemorySegment(B, s, o + qsOff + 8, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector l0 = u0.and(15), l1 = u1.and(15), h0 = u0.lanewise(VectorOperators.LSHR, 4), h1 = u1.lanewise(VectorOperators.LSHR, 4);
            if (fifth) {
                int qh = s.get(INT_LE, o + qhOff);
                IntVector lo = IntVector.broadcast(I, qh << 4), hi = IntVector.broadcast(I, qh >>> 12);
                l0 = l0.or(lo.lanewise(VectorOperators.LSHR, SHIFT0).and(16));
                l1 = l1.or(lo.lanewise(VectorOperators.LSHR, SHIFT8).and(16));
                h0 = h0.or(hi.lanewise(VectorOperators.LSHR, SHIFT0).and(16));
                h1 = h1.or(hi.lanewise(VectorOperators.LSHR, SHIFT8).and(16));
            }
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xb + 16), x3 = FloatVector.fromArray(F, x, xb + 24);
            FloatVector p = ((FloatVector) l0.convert(VectorOperators.I2F, 0)).mul(x0);
            p = ((FloatVector) l1.convert(VectorOperators.I2F, 0)).fma(x1, p);
            p = ((FloatVector) h0.convert(VectorOperators.I2F, 0)).fma(x2, p);
            p = ((FloatVector) h1.convert(VectorOperators.I2F, 0)).fma(x3, p);
            acc = p.fma(FloatVector.broadcast(F, d), acc);
            accMin = x0.add(x1).add(x2.add(x3)).fma(FloatVector.broadcast(F, mn), accMin);
        }
        FloatVector fold1 = acc.add(accMin);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /** Two rows, a block per step; the offsets' share a scalar product per block and row against {@link #prepare}'s sums. */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        float min0 = 0, min1 = 0;
        int bytes = blockBytes(), qhOff = offset ? 4 : 2, yOff = cols / 32;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long o0 = off0 + (long) bytes * b;
            int xb0 = xOff + 32 * b;
            float d0 = HALF[s.get(SHORT_LE, o0) & 0xffff];
            min0 += (offset ? HALF[s.get(SHORT_LE, o0 + 2) & 0xffff] : -16 * d0) * prep[b];
            IntVector u00 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + qsOff, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u10 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + qsOff + 8, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector l00 = u00.and(15), l10 = u10.and(15), h00 = u00.lanewise(VectorOperators.LSHR, 4), h10 = u10.lanewise(VectorOperators.LSHR, 4);
            if (fifth) {
                int qh = s.get(INT_LE, o0 + qhOff);
                IntVector lo = IntVector.broadcast(I, qh << 4), hi = IntVector.broadcast(I, qh >>> 12);
                l00 = l00.or(lo.lanewise(VectorOperators.LSHR, SHIFT0).and(16));
                l10 = l10.or(lo.lanewise(VectorOperators.LSHR, SHIFT8).and(16));
                h00 = h00.or(hi.lanewise(VectorOperators.LSHR, SHIFT0).and(16));
                h10 = h10.or(hi.lanewise(VectorOperators.LSHR, SHIFT8).and(16));
            }
            FloatVector p0 = ((FloatVector) l00.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb0));
            p0 = ((FloatVector) l10.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 8), p0);
            p0 = ((FloatVector) h00.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 16), p0);
            p0 = ((FloatVector) h10.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 24), p0);
            acc0 = p0.fma(FloatVector.broadcast(F, d0), acc0);

            long o1 = off1 + (long) bytes * b;
            int xb1 = yOff + 32 * b;
            float d1 = HALF[s.get(SHORT_LE, o1) & 0xffff];
            min1 += (offset ? HALF[s.get(SHORT_LE, o1 + 2) & 0xffff] : -16 * d1) * prep[b];
            IntVector u01 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + qsOff, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u11 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + qsOff + 8, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector l01 = u01.and(15), l11 = u11.and(15), h01 = u01.lanewise(VectorOperators.LSHR, 4), h11 = u11.lanewise(VectorOperators.LSHR, 4);
            if (fifth) {
                int qh = s.get(INT_LE, o1 + qhOff);
                IntVector lo = IntVector.broadcast(I, qh << 4), hi = IntVector.broadcast(I, qh >>> 12);
                l01 = l01.or(lo.lanewise(VectorOperators.LSHR, SHIFT0).and(16));
                l11 = l11.or(lo.lanewise(VectorOperators.LSHR, SHIFT8).and(16));
                h01 = h01.or(hi.lanewise(VectorOperators.LSHR, SHIFT0).and(16));
                h11 = h11.or(hi.lanewise(VectorOperators.LSHR, SHIFT8).and(16));
            }
            FloatVector p1 = ((FloatVector) l01.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, prep, xb1));
            p1 = ((FloatVector) l11.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 8), p1);
            p1 = ((FloatVector) h01.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 16), p1);
            p1 = ((FloatVector) h11.convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 24), p1);
            acc1 = p1.fma(FloatVector.broadcast(F, d1), acc1);
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
}
