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
 * Q6_K for 128-bit vectors: super-blocks of 210 bytes (128 bytes of low nibbles, 64 of 2-bit high
 * parts, 16 int8 scales, f16 d), two halves of 128 weights; in a half, byte l of ql, ql+32 and qh
 * give weights l, l+32, l+64, l+96; weight = d·scale·(q − 32), one scale per 16 weights.
 */
final class Q6KNarrowKernel extends NarrowBlockKernel {
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;

    Q6KNarrowKernel() {
        super(210);
    }

    /**
     * Two rows decoded in registers as {@link #decode} decodes one, without the buffer: the
     * activations loaded once for both rows, each group of eight weights scaled once. Rows are
     * written out: a helper taking vectors that C2 does not inline boxes them.
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long o0 = off0 + 210L * b, o1 = off1 + 210L * b;
            float d0 = HALF[s.get(SHORT_LE, o0 + 208) & 0xffff], d1 = HALF[s.get(SHORT_LE, o1 + 208) & 0xffff];
            for (int half = 0; half < 2; half++) {
                long ql0 = o0 + 64L * half, qh0 = o0 + 128 + 32L * half, sc0 = o0 + 192 + 8L * half;
                long ql1 = o1 + 64L * half, qh1 = o1 + 128 + 32L * half, sc1 = o1 + 192 + 8L * half;
                int xo = xOff + 256 * b + 128 * half;
                for (int l = 0; l < 32; l += 8) {
                    FloatVector x10 = FloatVector.fromArray(F, x, xo + l), x11 = FloatVector.fromArray(F, x, xo + l + 4);
                    FloatVector x20 = FloatVector.fromArray(F, x, xo + 32 + l), x21 = FloatVector.fromArray(F, x, xo + 36 + l);
                    FloatVector x30 = FloatVector.fromArray(F, x, xo + 64 + l), x31 = FloatVector.fromArray(F, x, xo + 68 + l);
                    FloatVector x40 = FloatVector.fromArray(F, x, xo + 96 + l), x41 = FloatVector.fromArray(F, x, xo + 100 + l);
                    ByteVector a0 = ByteVector.fromMemorySegment(B8, s, ql0 + l, LE);
                    ByteVector b0 = ByteVector.fromMemorySegment(B8, s, ql0 + 32 + l, LE);
                    ByteVector h0 = ByteVector.fromMemorySegment(B8, s, qh0 + l, LE);
                    ByteVector q10 = a0.and((byte) 15).or(h0.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q20 = b0.and((byte) 15).or(h0.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q30 = a0.lanewise(VectorOperators.LSHR, 4).or(h0.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q40 = b0.lanewise(VectorOperators.LSHR, 4).or(h0.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    FloatVector p10 = ((FloatVector) q10.convertShape(VectorOperators.B2F, F, 0)).mul(x10);
                    p10 = ((FloatVector) q10.convertShape(VectorOperators.B2F, F, 1)).fma(x11, p10);
                    FloatVector p20 = ((FloatVector) q20.convertShape(VectorOperators.B2F, F, 0)).mul(x20);
                    p20 = ((FloatVector) q20.convertShape(VectorOperators.B2F, F, 1)).fma(x21, p20);
                    FloatVector p30 = ((FloatVector) q30.convertShape(VectorOperators.B2F, F, 0)).mul(x30);
                    p30 = ((FloatVector) q30.convertShape(VectorOperators.B2F, F, 1)).fma(x31, p30);
                    FloatVector p40 = ((FloatVector) q40.convertShape(VectorOperators.B2F, F, 0)).mul(x40);
                    p40 = ((FloatVector) q40.convertShape(VectorOperators.B2F, F, 1)).fma(x41, p40);
                    int is = l / 16; // one scale per 16 weights: constant over these 8
                    acc0 = p10.fma(FloatVector.broadcast(F, d0 * s.get(ValueLayout.JAVA_BYTE, sc0 + is)), acc0);
                    acc0 = p20.fma(FloatVector.broadcast(F, d0 * s.get(ValueLayout.JAVA_BYTE, sc0 + 2 + is)), acc0);
                    acc0 = p30.fma(FloatVector.broadcast(F, d0 * s.get(ValueLayout.JAVA_BYTE, sc0 + 4 + is)), acc0);
                    acc0 = p40.fma(FloatVector.broadcast(F, d0 * s.get(ValueLayout.JAVA_BYTE, sc0 + 6 + is)), acc0);
                    ByteVector a1 = ByteVector.fromMemorySegment(B8, s, ql1 + l, LE);
                    ByteVector b1 = ByteVector.fromMemorySegment(B8, s, ql1 + 32 + l, LE);
                    ByteVector h1 = ByteVector.fromMemorySegment(B8, s, qh1 + l, LE);
                    ByteVector q11 = a1.and((byte) 15).or(h1.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q21 = b1.and((byte) 15).or(h1.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30)).sub((byte) 32);
                    ByteVector q31 = a1.lanewise(VectorOperators.LSHR, 4).or(h1.and((byte) 0x30)).sub((byte) 32);
                    ByteVector q41 = b1.lanewise(VectorOperators.LSHR, 4).or(h1.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30)).sub((byte) 32);
                    FloatVector p11 = ((FloatVector) q11.convertShape(VectorOperators.B2F, F, 0)).mul(x10);
                    p11 = ((FloatVector) q11.convertShape(VectorOperators.B2F, F, 1)).fma(x11, p11);
                    FloatVector p21 = ((FloatVector) q21.convertShape(VectorOperators.B2F, F, 0)).mul(x20);
                    p21 = ((FloatVector) q21.convertShape(VectorOperators.B2F, F, 1)).fma(x21, p21);
                    FloatVector p31 = ((FloatVector) q31.convertShape(VectorOperators.B2F, F, 0)).mul(x30);
                    p31 = ((FloatVector) q31.convertShape(VectorOperators.B2F, F, 1)).fma(x31, p31);
                    FloatVector p41 = ((FloatVector) q41.convertShape(VectorOperators.B2F, F, 0)).mul(x40);
                    p41 = ((FloatVector) q41.convertShape(VectorOperators.B2F, F, 1)).fma(x41, p41);
                    acc1 = p11.fma(FloatVector.broadcast(F, d1 * s.get(ValueLayout.JAVA_BYTE, sc1 + is)), acc1);
                    acc1 = p21.fma(FloatVector.broadcast(F, d1 * s.get(ValueLayout.JAVA_BYTE, sc1 + 2 + is)), acc1);
                    acc1 = p31.fma(FloatVector.broadcast(F, d1 * s.get(ValueLayout.JAVA_BYTE, sc1 + 4 + is)), acc1);
                    acc1 = p41.fma(FloatVector.broadcast(F, d1 * s.get(ValueLayout.JAVA_BYTE, sc1 + 6 + is)), acc1);
                }
            }
        }
        FloatVector fold1 = acc0.add(acc0.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold1.lane(0) + fold1.lane(1);
        FloatVector fold2 = acc1.add(acc1.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold2.lane(0) + fold2.lane(1);
    }

    @Override
    void decode(MemorySegment s, long block, float[] out, int outOff) {
        float d = HALF[s.get(SHORT_LE, block + 208) & 0xffff];
        for (int half = 0; half < 2; half++) {
            long ql = block + 64L * half, qh = block + 128 + 32L * half, sc = block + 192 + 8L * half;
            int o = outOff + 128 * half;
            for (int l = 0; l < 32; l += 8) {
                ByteVector a = ByteVector.fromMemorySegment(B8, s, ql + l, LE);
                ByteVector b = ByteVector.fromMemorySegment(B8, s, ql + 32 + l, LE);
                ByteVector h = ByteVector.fromMemorySegment(B8, s, qh + l, LE);
                // The 2-bit high parts of the four weights of each qh byte, moved to bits 4..5.
                ByteVector h1 = h.lanewise(VectorOperators.LSHL, 4).and((byte) 0x30);
                ByteVector h2 = h.lanewise(VectorOperators.LSHL, 2).and((byte) 0x30);
                ByteVector h3 = h.and((byte) 0x30);
                ByteVector h4 = h.lanewise(VectorOperators.LSHR, 2).and((byte) 0x30);
                ByteVector q1 = a.and((byte) 15).or(h1).sub((byte) 32);
                ByteVector q2 = b.and((byte) 15).or(h2).sub((byte) 32);
                ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h3).sub((byte) 32);
                ByteVector q4 = b.lanewise(VectorOperators.LSHR, 4).or(h4).sub((byte) 32);
                int is = l / 16; // one scale per 16 weights: constant over these 8
                float s1 = d * s.get(ValueLayout.JAVA_BYTE, sc + is);
                float s2 = d * s.get(ValueLayout.JAVA_BYTE, sc + 2 + is);
                float s3 = d * s.get(ValueLayout.JAVA_BYTE, sc + 4 + is);
                float s4 = d * s.get(ValueLayout.JAVA_BYTE, sc + 6 + is);
                // Written out: a helper taking a vector may not be inlined, and then every vector is boxed.
                ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 0)).mul(s1).intoArray(out, o + l);
                ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 1)).mul(s1).intoArray(out, o + l + 4);
                ((FloatVector) q2.convertShape(VectorOperators.B2F, F, 0)).mul(s2).intoArray(out, o + 32 + l);
                ((FloatVector) q2.convertShape(VectorOperators.B2F, F, 1)).mul(s2).intoArray(out, o + 36 + l);
                ((FloatVector) q3.convertShape(VectorOperators.B2F, F, 0)).mul(s3).intoArray(out, o + 64 + l);
                ((FloatVector) q3.convertShape(VectorOperators.B2F, F, 1)).mul(s3).intoArray(out, o + 68 + l);
                ((FloatVector) q4.convertShape(VectorOperators.B2F, F, 0)).mul(s4).intoArray(out, o + 96 + l);
                ((FloatVector) q4.convertShape(VectorOperators.B2F, F, 1)).mul(s4).intoArray(out, o + 100 + l);
            }
        }
    }
}
