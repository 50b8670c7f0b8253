package io.flashllm.kernels.cpu;

import io.flashllm.kernels.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q4_1, Q5_0 and Q5_1: one 32-weight block with an f16 scale d, for Q4_1 and Q5_1 an f16 offset m
 * after it, for the Q5 types 32 fifth bits (bit e of a little-endian int for element e), then 16
 * bytes whose low nibbles are elements 0..15 and high nibbles 16..31. Q5_0's weights are
 * {@code d * (q - 16)}, the others' {@code d * q + m}.
 */
class Q32Kernel extends SubBlockKernel {
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;
    /** For each byte value, eight bytes: 16 where the byte has bit i set, else 0 (the fifth bits in place). */
    private static final byte[] FIFTH = new byte[256 * 8];

    static {
        for (int b = 0; b < 256; b++) {
            for (int i = 0; i < 8; i++) FIFTH[8 * b + i] = (byte) (((b >>> i) & 1) << 4);
        }
    }

    /** Lane i holds i: with 16 int lanes, the fifth bit of element i is bit i of the block's qh. */
    private static final IntVector IOTA = L == 16 ? IntVector.fromArray(I, iota(), 0) : null;

    private static int[] iota() {
        int[] a = new int[16];
        for (int i = 0; i < 16; i++) a[i] = i;
        return a;
    }

    final boolean offset;
    final boolean fifth;
    final int qsOff;

    Q32Kernel(GgmlType type) {
        super(32, type.blockBytes);
        if (type != GgmlType.Q4_1 && type != GgmlType.Q5_0 && type != GgmlType.Q5_1) {
            throw new IllegalArgumentException("not a 32-weight offset/fifth-bit type: " + type);
        }
        offset = type != GgmlType.Q5_0;
        fifth = type != GgmlType.Q4_1;
        qsOff = (offset ? 4 : 2) + (fifth ? 4 : 0);
    }

    /**
     * 512-bit vectors: a block is decoded in registers, its 16 bytes widened to ints once (x86 has
     * no byte shifts), the fifth bits moved into place by one variable shift per 16 weights; the
     * offset's share is min times the sum of x, accumulated apart.
     */
    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        if (L != 16) return super.dot(s, off, cols, x, xOff);
        FloatVector acc = FloatVector.zero(F), accMin = acc;
        int bytes = blockBytes(), qhOff = offset ? 4 : 2;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long bo = off + (long) bytes * b;
            int xb = xOff + 32 * b;
            float d = HALF[s.get(SHORT_LE, bo) & 0xffff];
            float mn = offset ? HALF[s.get(SHORT_LE, bo + 2) & 0xffff] : -16 * d;
            ByteVector v = ByteVector.fromMemorySegment(B16, s, bo + qsOff, LE);
            IntVector q = (IntVector) v.convertShape(VectorOperators.B2I, I, 0); // sign-extended: mask both
            IntVector lo = q.and(15), hi = q.lanewise(VectorOperators.LSHR, 4).and(15);
            if (fifth) {
                int qh = s.get(INT_LE, bo + qhOff);
                lo = lo.or(IntVector.broadcast(I, qh << 4).lanewise(VectorOperators.LSHR, IOTA).and(16));
                hi = hi.or(IntVector.broadcast(I, (qh >>> 16) << 4).lanewise(VectorOperators.LSHR, IOTA).and(16));
            }
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            FloatVector p = ((FloatVector) lo.convert(VectorOperators.I2F, 0)).mul(x0);
            p = ((FloatVector) hi.convert(VectorOperators.I2F, 0)).fma(x1, p);
            acc = p.fma(FloatVector.broadcast(F, d), acc);
            accMin = x0.add(x1).fma(FloatVector.broadcast(F, mn), accMin);
        }
        FloatVector fold1 = acc.add(accMin);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /**
     * 512-bit vectors, two rows ({@code MatVec}'s four-row calls are two of these; four rows per
     * call were measured no faster for these types, kernels/README.md):
     * {@link #dot}'s decode per row, the activations loaded once for both, the offsets' share a
     * scalar product per block and row against {@link #prepare}'s sums of x.
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        if (L != 16) {
            super.dot2(s, off0, off1, cols, x, xOff, prep, out, outOff);
            return;
        }
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        float min0 = 0, min1 = 0;
        int bytes = blockBytes(), qhOff = offset ? 4 : 2;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long o0 = off0 + (long) bytes * b, o1 = off1 + (long) bytes * b;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            float d0 = HALF[s.get(SHORT_LE, o0) & 0xffff];
            min0 += (offset ? HALF[s.get(SHORT_LE, o0 + 2) & 0xffff] : -16 * d0) * prep[b];
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B16, s, o0 + qsOff, LE)
                    .convertShape(VectorOperators.B2I, I, 0);
            IntVector lo0 = q0.and(15), hi0 = q0.lanewise(VectorOperators.LSHR, 4).and(15);
            if (fifth) {
                int qh = s.get(INT_LE, o0 + qhOff);
                lo0 = lo0.or(IntVector.broadcast(I, qh << 4).lanewise(VectorOperators.LSHR, IOTA).and(16));
                hi0 = hi0.or(IntVector.broadcast(I, (qh >>> 16) << 4).lanewise(VectorOperators.LSHR, IOTA).and(16));
            }
            FloatVector p0 = ((FloatVector) lo0.convert(VectorOperators.I2F, 0)).mul(x0);
            p0 = ((FloatVector) hi0.convert(VectorOperators.I2F, 0)).fma(x1, p0);
            acc0 = p0.fma(FloatVector.broadcast(F, d0), acc0);
            float d1 = HALF[s.get(SHORT_LE, o1) & 0xffff];
            min1 += (offset ? HALF[s.get(SHORT_LE, o1 + 2) & 0xffff] : -16 * d1) * prep[b];
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B16, s, o1 + qsOff, LE)
                    .convertShape(VectorOperators.B2I, I, 0);
            IntVector lo1 = q1.and(15), hi1 = q1.lanewise(VectorOperators.LSHR, 4).and(15);
            if (fifth) {
                int qh = s.get(INT_LE, o1 + qhOff);
                lo1 = lo1.or(IntVector.broadcast(I, qh << 4).lanewise(VectorOperators.LSHR, IOTA).and(16));
                hi1 = hi1.or(IntVector.broadcast(I, (qh >>> 16) << 4).lanewise(VectorOperators.LSHR, IOTA).and(16));
            }
            FloatVector p1 = ((FloatVector) lo1.convert(VectorOperators.I2F, 0)).mul(x0);
            p1 = ((FloatVector) hi1.convert(VectorOperators.I2F, 0)).fma(x1, p1);
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

    @Override
    void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min) {
        float d = HALF[s.get(SHORT_LE, block) & 0xffff];
        int qh = fifth ? s.get(INT_LE, block + (offset ? 4 : 2)) : 0;
        for (int h = 0; h < 2; h++) {
            ByteVector v = ByteVector.fromMemorySegment(B8, s, block + qsOff + 8 * h, LE);
            ByteVector lo = v.and((byte) 15), hi = v.lanewise(VectorOperators.LSHR, 4);
            if (fifth) {
                lo = lo.or(ByteVector.fromArray(B8, FIFTH, 8 * ((qh >>> (8 * h)) & 0xff)));
                hi = hi.or(ByteVector.fromArray(B8, FIFTH, 8 * ((qh >>> (16 + 8 * h)) & 0xff)));
            }
            lo.intoArray(q, 8 * h);
            hi.intoArray(q, 16 + 8 * h);
        }
        scale[0] = d;
        min[0] = offset ? HALF[s.get(SHORT_LE, block + 2) & 0xffff] : -16 * d;
    }
}
