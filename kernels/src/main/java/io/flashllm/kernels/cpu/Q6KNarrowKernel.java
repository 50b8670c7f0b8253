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
