package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q8_0: blocks of 34 bytes, an f16 scale then 32 signed bytes. Each block's products are summed
 * unscaled, then scaled once by the block's d; two blocks per step give two independent chains.
 *
 * <p>Like every kernel here, the loops are written out flat: a helper method that takes or returns
 * a vector may not be inlined (C2 refuses callees already compiled to large code), and a vector
 * crossing a real call is boxed, which is a hundred times slower.
 *
 * <p>512-bit vectors only: {@link Q8_0Kernel256} runs Q8_0 at 256 bits, {@link Q8_0NarrowKernel} at 128.
 */
final class Q8_0Kernel extends RowKernel {
    private static final int BYTES = 34;

    Q8_0Kernel() {
        if (L != 16) throw new IllegalStateException("Q8_0Kernel needs 16 float lanes, have " + L);
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        return dot16(s, off, cols / 32, x, xOff);
    }

    /** 512-bit vectors: a block is exactly two vectors, written out without an inner loop. */
    private static float dot16(MemorySegment s, long off, int blocks, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            long bo = off + (long) BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb));
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16), p0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + BYTES + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb + 32));
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + BYTES + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 48), p1);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, bo) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, bo + BYTES) & 0xffff]), a1);
        }
        if (b < blocks) {
            long bo = off + (long) BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb));
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16), p0);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, bo) & 0xffff]), a0);
        }
        FloatVector fold1 = a0.add(a1);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        dot2x16(s, off0, off1, cols / 32, x, xOff, out, outOff);
    }

    /**
     * 512-bit vectors, two rows by two blocks per step: the four activation vectors are loaded once
     * for both rows and four accumulator chains run side by side (22% more blocks per CPU-second
     * than {@link #dot16} row by row). Larger tiles exceed C2's inlining budget and get boxed.
     */
    private static void dot2x16(MemorySegment s, long off0, long off1, int blocks, float[] x, int xOff,
                                float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, c0 = a0, c1 = a0;
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            long bo = off0 + (long) BYTES * b, co = off1 + (long) BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            FloatVector x2 = FloatVector.fromArray(F, x, xb + 32), x3 = FloatVector.fromArray(F, x, xb + 48);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + BYTES + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x2);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + BYTES + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p1);
            FloatVector r0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, co + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            r0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, co + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, r0);
            FloatVector r1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, co + BYTES + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x2);
            r1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, co + BYTES + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, r1);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, bo) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, bo + BYTES) & 0xffff]), a1);
            c0 = r0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, co) & 0xffff]), c0);
            c1 = r1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, co + BYTES) & 0xffff]), c1);
        }
        if (b < blocks) {
            long bo = off0 + (long) BYTES * b, co = off1 + (long) BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, bo + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p0);
            FloatVector r0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, co + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            r0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, co + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, r0);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, bo) & 0xffff]), a0);
            c0 = r0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, co) & 0xffff]), c0);
        }
        FloatVector fold2 = a0.add(a1);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = c0.add(c1);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold3.lane(0) + fold3.lane(1);
    }

    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        dot4x16(s, off0, off1, off2, off3, cols / 32, x, xOff, out, outOff);
    }

    /**
     * 512-bit vectors, four rows by one block per step. Streaming from DRAM this keeps
     * four rows in flight per core: 8.0 GB/cpu-s against 6.8 for {@link #dot2x16} and 5.1 for
     * {@link #dot16} (one thread, 1.1 GB of weights); in L2 it is a little slower than dot2x16.
     */
    private static void dot4x16(MemorySegment s, long off0, long off1, long off2, long off3, int blocks,
                                float[] x, int xOff, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p1);
            FloatVector p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p2);
            FloatVector p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p3);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3) & 0xffff]), a3);
        }
        FloatVector fold4 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold4.lane(0) + fold4.lane(1);
        FloatVector fold5 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold5.lane(0) + fold5.lane(1);
        FloatVector fold6 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold6.lane(0) + fold6.lane(1);
        FloatVector fold7 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold7.lane(0) + fold7.lane(1);
    }

    @Override
    public int rowsPerCall() {
        return 8;
    }

    @Override
    public void dot8(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5, long off6,
                     long off7, int cols, float[] x, int xOff, float[] prep, float[] out, int outOff) {
        dot8x16(s, off0, off1, off2, off3, off4, off5, off6, off7, cols / 32, x, xOff, out, outOff);
    }

    /**
     * 512-bit vectors, eight rows by one block per step: as {@link #dot4x16} with eight rows in
     * flight per core and the two activation vectors loaded once for eight rows.
     */
    private static void dot8x16(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5,
                                long off6, long off7, int blocks, float[] x, int xOff, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            long o4 = off4 + d, o5 = off5 + d, o6 = off6 + d, o7 = off7 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p1);
            FloatVector p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p2);
            FloatVector p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p3);
            FloatVector p4 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o4 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p4 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o4 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p4);
            FloatVector p5 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o5 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p5 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o5 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p5);
            FloatVector p6 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o6 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p6 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o6 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p6);
            FloatVector p7 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o7 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p7 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o7 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p7);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3) & 0xffff]), a3);
            a4 = p4.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o4) & 0xffff]), a4);
            a5 = p5.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o5) & 0xffff]), a5);
            a6 = p6.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o6) & 0xffff]), a6);
            a7 = p7.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o7) & 0xffff]), a7);
        }
        FloatVector fold8 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 0] = fold8.lane(0) + fold8.lane(1);
        FloatVector fold9 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold9.lane(0) + fold9.lane(1);
        FloatVector fold10 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold10.lane(0) + fold10.lane(1);
        FloatVector fold11 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold11.lane(0) + fold11.lane(1);
        FloatVector fold12 = a4.add(a4.rearrange(Simd.FOLD_1));
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 4] = fold12.lane(0) + fold12.lane(1);
        FloatVector fold13 = a5.add(a5.rearrange(Simd.FOLD_1));
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 5] = fold13.lane(0) + fold13.lane(1);
        FloatVector fold14 = a6.add(a6.rearrange(Simd.FOLD_1));
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 6] = fold14.lane(0) + fold14.lane(1);
        FloatVector fold15 = a7.add(a7.rearrange(Simd.FOLD_1));
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 7] = fold15.lane(0) + fold15.lane(1);
    }

    @Override
    public void dot8Gathered(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5,
                             long off6, long off7, int cols, float[] x, int xOff, float[] prep, float[] out, int outOff) {
        gathered8x16(s, off0, off1, off2, off3, off4, off5, off6, off7, cols / 32, x, xOff, out, outOff);
    }

    /**
     * {@link #dot8x16}'s code again, for gathered rows (neuron-cache rows, rows a selector picked):
     * the same instructions, but compiled and profiled apart. One method fed both kinds of segment
     * (a mapped file for dense products, native memory for the neuron cache) is compiled for both,
     * and a compiled kernel fed a second segment class ran several times slower (kernels/README.md,
     * on matvecRows). Eight rows in flight instead of four: gathered rows start a new DRAM stream each,
     * and {@code KernelBench --sparse} read them at 18 GB/s against 10-14 with {@link #dot4}.
     */
    private static void gathered8x16(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5,
                                     long off6, long off7, int blocks, float[] x, int xOff, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            long o4 = off4 + d, o5 = off5 + d, o6 = off6 + d, o7 = off7 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 16);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p1);
            FloatVector p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p2);
            FloatVector p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p3);
            FloatVector p4 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o4 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p4 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o4 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p4);
            FloatVector p5 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o5 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p5 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o5 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p5);
            FloatVector p6 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o6 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p6 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o6 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p6);
            FloatVector p7 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o7 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p7 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o7 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p7);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3) & 0xffff]), a3);
            a4 = p4.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o4) & 0xffff]), a4);
            a5 = p5.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o5) & 0xffff]), a5);
            a6 = p6.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o6) & 0xffff]), a6);
            a7 = p7.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o7) & 0xffff]), a7);
        }
        FloatVector fold16 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold16 = fold16.add(fold16.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold16 = fold16.add(fold16.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 0] = fold16.lane(0) + fold16.lane(1);
        FloatVector fold17 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold17 = fold17.add(fold17.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold17 = fold17.add(fold17.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold17.lane(0) + fold17.lane(1);
        FloatVector fold18 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold18 = fold18.add(fold18.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold18 = fold18.add(fold18.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold18.lane(0) + fold18.lane(1);
        FloatVector fold19 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold19 = fold19.add(fold19.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold19 = fold19.add(fold19.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold19.lane(0) + fold19.lane(1);
        FloatVector fold20 = a4.add(a4.rearrange(Simd.FOLD_1));
        fold20 = fold20.add(fold20.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold20 = fold20.add(fold20.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 4] = fold20.lane(0) + fold20.lane(1);
        FloatVector fold21 = a5.add(a5.rearrange(Simd.FOLD_1));
        fold21 = fold21.add(fold21.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold21 = fold21.add(fold21.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 5] = fold21.lane(0) + fold21.lane(1);
        FloatVector fold22 = a6.add(a6.rearrange(Simd.FOLD_1));
        fold22 = fold22.add(fold22.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold22 = fold22.add(fold22.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 6] = fold22.lane(0) + fold22.lane(1);
        FloatVector fold23 = a7.add(a7.rearrange(Simd.FOLD_1));
        fold23 = fold23.add(fold23.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold23 = fold23.add(fold23.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 7] = fold23.lane(0) + fold23.lane(1);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        axpy16(s, off, cols / 32, a, out, outOff);
    }

    /** 512-bit vectors: a block is two vectors; no inner loop. */
    private static void axpy16(MemorySegment s, long off, int blocks, float a, float[] out, int outOff) {
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            FloatVector ad = FloatVector.broadcast(F, a * Simd.f16(s, bo));
            int ob = outOff + 32 * b;
            FloatVector q0 = (FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2, LE).convertShape(VectorOperators.B2F, F, 0);
            FloatVector q1 = (FloatVector) ByteVector.fromMemorySegment(B, s, bo + 18, LE).convertShape(VectorOperators.B2F, F, 0);
            q0.fma(ad, FloatVector.fromArray(F, out, ob)).intoArray(out, ob);
            q1.fma(ad, FloatVector.fromArray(F, out, ob + 16)).intoArray(out, ob + 16);
        }
    }

    @Override
    public void axpy4(MemorySegment s, long off0, long off1, long off2, long off3, int cols,
                      float a0, float a1, float a2, float a3, float[] out, int outOff) {
        axpy4x16(s, off0, off1, off2, off3, cols / 32, a0, a1, a2, a3, out, outOff);
    }

    /**
     * 512-bit vectors, four rows by one block per step: {@code out} is loaded and stored once per
     * block for all four rows, and four rows' bytes are in flight at once.
     */
    private static void axpy4x16(MemorySegment s, long off0, long off1, long off2, long off3, int blocks,
                                 float a0, float a1, float a2, float a3, float[] out, int outOff) {
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int ob = outOff + 32 * b;
            FloatVector d0 = FloatVector.broadcast(F, a0 * HALF[s.get(SHORT_LE, o0) & 0xffff]);
            FloatVector d1 = FloatVector.broadcast(F, a1 * HALF[s.get(SHORT_LE, o1) & 0xffff]);
            FloatVector d2 = FloatVector.broadcast(F, a2 * HALF[s.get(SHORT_LE, o2) & 0xffff]);
            FloatVector d3 = FloatVector.broadcast(F, a3 * HALF[s.get(SHORT_LE, o3) & 0xffff]);
            FloatVector lo = FloatVector.fromArray(F, out, ob);
            FloatVector hi = FloatVector.fromArray(F, out, ob + 16);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d0, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d0, hi);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d1, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d1, hi);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d2, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d2, hi);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d3, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d3, hi);
            lo.intoArray(out, ob);
            hi.intoArray(out, ob + 16);
        }
    }

    @Override
    public void axpy8(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5, long off6,
                      long off7, int cols, float[] a, int aOff, float[] out, int outOff) {
        axpy8x16(s, off0, off1, off2, off3, off4, off5, off6, off7, cols / 32, a[aOff], a[aOff + 1], a[aOff + 2],
                    a[aOff + 3], a[aOff + 4], a[aOff + 5], a[aOff + 6], a[aOff + 7], out, outOff);
    }

    /** 512-bit vectors, eight rows by one block per step: as {@link #axpy4x16} with eight rows in flight. */
    private static void axpy8x16(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5,
                                 long off6, long off7, int blocks, float a0, float a1, float a2, float a3, float a4,
                                 float a5, float a6, float a7, float[] out, int outOff) {
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            long o4 = off4 + d, o5 = off5 + d, o6 = off6 + d, o7 = off7 + d;
            int ob = outOff + 32 * b;
            FloatVector lo = FloatVector.fromArray(F, out, ob);
            FloatVector hi = FloatVector.fromArray(F, out, ob + 16);
            FloatVector d0 = FloatVector.broadcast(F, a0 * HALF[s.get(SHORT_LE, o0) & 0xffff]);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d0, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d0, hi);
            FloatVector d1 = FloatVector.broadcast(F, a1 * HALF[s.get(SHORT_LE, o1) & 0xffff]);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d1, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d1, hi);
            FloatVector d2 = FloatVector.broadcast(F, a2 * HALF[s.get(SHORT_LE, o2) & 0xffff]);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d2, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d2, hi);
            FloatVector d3 = FloatVector.broadcast(F, a3 * HALF[s.get(SHORT_LE, o3) & 0xffff]);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d3, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d3, hi);
            FloatVector d4 = FloatVector.broadcast(F, a4 * HALF[s.get(SHORT_LE, o4) & 0xffff]);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o4 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d4, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o4 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d4, hi);
            FloatVector d5 = FloatVector.broadcast(F, a5 * HALF[s.get(SHORT_LE, o5) & 0xffff]);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o5 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d5, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o5 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d5, hi);
            FloatVector d6 = FloatVector.broadcast(F, a6 * HALF[s.get(SHORT_LE, o6) & 0xffff]);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o6 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d6, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o6 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d6, hi);
            FloatVector d7 = FloatVector.broadcast(F, a7 * HALF[s.get(SHORT_LE, o7) & 0xffff]);
            lo = ((FloatVector) ByteVector.fromMemorySegment(B, s, o7 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d7, lo);
            hi = ((FloatVector) ByteVector.fromMemorySegment(B, s, o7 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(d7, hi);
            lo.intoArray(out, ob);
            hi.intoArray(out, ob + 16);
        }
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float d = Simd.f16(s, bo);
            int ob = outOff + 32 * b;
            for (int j = 0; j < 32; j += L) {
                FloatVector q = (FloatVector) ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE)
                        .convertShape(VectorOperators.B2F, F, 0);
                q.mul(d).intoArray(out, ob + j);
            }
        }
    }

    @Override
    public boolean fusesBatch4() {
        return true;
    }

    @Override
    public void dot4x4(MemorySegment s, long off, long rowBytes, int cols, float[] x, int b, int rows, int r, float[] out) {
        Q8_0Batch4.dot4x4(s, off, rowBytes, cols, x, b, rows, r, out);
    }
}
