package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q6_K with 256-bit vectors (AVX2): {@link Q6KKernel} with {@link #dot2}, which every row of a
 * product but an odd last one goes through, decoding sixteen positions at a time. The
 * width-independent dot2 decodes with byte vectors as wide as a float vector's lane count, which at
 * eight lanes are 64-bit: each of a step's byte operations (masks, 16-bit shifts, the offset of 32;
 * about twenty for the four groups) then serves eight weights. Here they act on 16 bytes, each group's two
 * halves converted to floats apart; a group of 16 positions has one scale, so its two products are
 * summed before the scale's multiply-add (three float operations per 16 weights, not four). The
 * second row reads its own copy of x from {@code prep}, as {@link Q4KKernel256}'s does: the same x
 * loaded for both rows is held across them by the JIT, more than sixteen registers hold.
 */
final class Q6KKernel256 extends Q6KKernel {
    private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;

    Q6KKernel256() {
        if (Simd.L != 8) throw new IllegalStateException("Q6KKernel256 needs 8 float lanes, have " + Simd.L);
    }

    /** A copy of x for {@link #dot2}'s second row. */
    @Override
    public int prepSize(int cols) {
        return cols;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        System.arraycopy(x, xOff, prep, 0, cols);
    }

    /**
     * Two rows; per super-block four steps of (half h, positions l..l+15), each step the four
     * groups at positions l, l+32, l+64 and l+96 of the half; d applied when a super-block ends.
     * The rows are written out: a helper taking vectors that C2 does not inline boxes them.
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long o0 = off0 + (long) BYTES * b, o1 = off1 + (long) BYTES * b;
            FloatVector u0 = FloatVector.zero(F), v0 = u0, u1 = u0, v1 = u0;
            for (int r = 0; r < 4; r++) {
                int h = r >> 1, l = (r & 1) << 4;
                int xh = xOff + 256 * b + 128 * h + l, ph = 256 * b + 128 * h + l;
                long ql0 = o0 + 64 * h + l, qh0 = o0 + 128 + 32 * h + l, sc0 = o0 + 192 + 8 * h + (l >> 4);
                long ql1 = o1 + 64 * h + l, qh1 = o1 + 128 + 32 * h + l, sc1 = o1 + 192 + 8 * h + (l >> 4);

                ByteVector a = ByteVector.fromMemorySegment(B16, s, ql0, LE);
                ByteVector c = ByteVector.fromMemorySegment(B16, s, ql0 + 32, LE);
                ByteVector hb = ByteVector.fromMemorySegment(B16, s, qh0, LE);
                ByteVector g1 = a.and((byte) 15).or(hb.and((byte) 3).reinterpretAsShorts()
                        .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()).sub((byte) 32);
                ByteVector g2 = c.and((byte) 15).or(hb.and((byte) 12).reinterpretAsShorts()
                        .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes()).sub((byte) 32);
                ByteVector g3 = a.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(hb.and((byte) 48)).sub((byte) 32);
                ByteVector g4 = c.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(hb.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes()
                                .and((byte) 48)).sub((byte) 32);
                FloatVector p = ((FloatVector) g1.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xh));
                p = ((FloatVector) g1.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xh + 8), p);
                u0 = p.fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc0) & 0xff]), u0);
                p = ((FloatVector) g2.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xh + 32));
                p = ((FloatVector) g2.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xh + 40), p);
                v0 = p.fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc0 + 2) & 0xff]), v0);
                p = ((FloatVector) g3.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xh + 64));
                p = ((FloatVector) g3.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xh + 72), p);
                u0 = p.fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc0 + 4) & 0xff]), u0);
                p = ((FloatVector) g4.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xh + 96));
                p = ((FloatVector) g4.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xh + 104), p);
                v0 = p.fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc0 + 6) & 0xff]), v0);

                a = ByteVector.fromMemorySegment(B16, s, ql1, LE);
                c = ByteVector.fromMemorySegment(B16, s, ql1 + 32, LE);
                hb = ByteVector.fromMemorySegment(B16, s, qh1, LE);
                g1 = a.and((byte) 15).or(hb.and((byte) 3).reinterpretAsShorts()
                        .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes()).sub((byte) 32);
                g2 = c.and((byte) 15).or(hb.and((byte) 12).reinterpretAsShorts()
                        .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes()).sub((byte) 32);
                g3 = a.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(hb.and((byte) 48)).sub((byte) 32);
                g4 = c.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(hb.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes()
                                .and((byte) 48)).sub((byte) 32);
                p = ((FloatVector) g1.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, prep, ph));
                p = ((FloatVector) g1.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, prep, ph + 8), p);
                u1 = p.fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc1) & 0xff]), u1);
                p = ((FloatVector) g2.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, prep, ph + 32));
                p = ((FloatVector) g2.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, prep, ph + 40), p);
                v1 = p.fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc1 + 2) & 0xff]), v1);
                p = ((FloatVector) g3.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, prep, ph + 64));
                p = ((FloatVector) g3.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, prep, ph + 72), p);
                u1 = p.fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc1 + 4) & 0xff]), u1);
                p = ((FloatVector) g4.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, prep, ph + 96));
                p = ((FloatVector) g4.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, prep, ph + 104), p);
                v1 = p.fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc1 + 6) & 0xff]), v1);
            }
            a0 = u0.add(v0).fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0 + 208) & 0xffff]), a0);
            a1 = u1.add(v1).fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1 + 208) & 0xffff]), a1);
        }
        FloatVector fold1 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold1.lane(0) + fold1.lane(1);
        FloatVector fold2 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold2.lane(0) + fold2.lane(1);
    }
}
