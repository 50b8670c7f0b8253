package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q8_0 for 128-bit vectors (four float lanes: aarch64's NEON, x86 without AVX2), where
 * {@link Q8_0Kernel}'s loads of one byte per float lane would need a 4-byte vector, which the
 * Vector API does not have. Eight bytes are loaded at a time and converted in two parts of four;
 * the multi-row products use {@link RowKernel}'s defaults (row after row).
 */
final class Q8_0NarrowKernel extends RowKernel {
    private static final int BYTES = 34;
    private static final VectorSpecies<Byte> B8 = ByteVector.SPECIES_64;


    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector p = FloatVector.zero(F);
            for (int j = 0; j < 32; j += 8) {
                ByteVector q = ByteVector.fromMemorySegment(B8, s, bo + 2 + j, LE);
                p = ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + j), p);
                p = ((FloatVector) q.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xb + j + 4), p);
            }
            acc = p.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, bo) & 0xffff]), acc);
        }
        FloatVector fold1 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /**
     * Two rows as {@link #dot}, the activations loaded once for both. Rows are written out: a
     * helper taking vectors that C2 does not inline boxes them.
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long o0 = off0 + (long) BYTES * b, o1 = off1 + (long) BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector p0 = FloatVector.zero(F), p1 = p0;
            for (int j = 0; j < 32; j += 8) {
                FloatVector x0 = FloatVector.fromArray(F, x, xb + j), x1 = FloatVector.fromArray(F, x, xb + j + 4);
                ByteVector q0 = ByteVector.fromMemorySegment(B8, s, o0 + 2 + j, LE);
                p0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, 0)).fma(x0, p0);
                p0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, F, 1)).fma(x1, p0);
                ByteVector q1 = ByteVector.fromMemorySegment(B8, s, o1 + 2 + j, LE);
                p1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 0)).fma(x0, p1);
                p1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, F, 1)).fma(x1, p1);
            }
            acc0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), acc0);
            acc1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), acc1);
        }
        FloatVector fold2 = acc0.add(acc0.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = acc1.add(acc1.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold3.lane(0) + fold3.lane(1);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            FloatVector ad = FloatVector.broadcast(F, a * HALF[s.get(SHORT_LE, bo) & 0xffff]);
            int ob = outOff + 32 * b;
            for (int j = 0; j < 32; j += 8) {
                ByteVector q = ByteVector.fromMemorySegment(B8, s, bo + 2 + j, LE);
                ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).fma(ad, FloatVector.fromArray(F, out, ob + j))
                        .intoArray(out, ob + j);
                ((FloatVector) q.convertShape(VectorOperators.B2F, F, 1)).fma(ad, FloatVector.fromArray(F, out, ob + j + 4))
                        .intoArray(out, ob + j + 4);
            }
        }
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float d = HALF[s.get(SHORT_LE, bo) & 0xffff];
            int ob = outOff + 32 * b;
            for (int j = 0; j < 32; j += 8) {
                ByteVector q = ByteVector.fromMemorySegment(B8, s, bo + 2 + j, LE);
                ((FloatVector) q.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, ob + j);
                ((FloatVector) q.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoArray(out, ob + j + 4);
            }
        }
    }
}
