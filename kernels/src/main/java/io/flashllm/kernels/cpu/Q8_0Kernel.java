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
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
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
        out[outOff] = a0.add(a1).reduceLanes(VectorOperators.ADD);
        out[outOff + 1] = c0.add(c1).reduceLanes(VectorOperators.ADD);
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
        out[outOff] = a0.reduceLanes(VectorOperators.ADD);
        out[outOff + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[outOff + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[outOff + 3] = a3.reduceLanes(VectorOperators.ADD);
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
        out[outOff + 0] = a0.reduceLanes(VectorOperators.ADD);
        out[outOff + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[outOff + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[outOff + 3] = a3.reduceLanes(VectorOperators.ADD);
        out[outOff + 4] = a4.reduceLanes(VectorOperators.ADD);
        out[outOff + 5] = a5.reduceLanes(VectorOperators.ADD);
        out[outOff + 6] = a6.reduceLanes(VectorOperators.ADD);
        out[outOff + 7] = a7.reduceLanes(VectorOperators.ADD);
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
        out[outOff + 0] = a0.reduceLanes(VectorOperators.ADD);
        out[outOff + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[outOff + 2] = a2.reduceLanes(VectorOperators.ADD);
        out[outOff + 3] = a3.reduceLanes(VectorOperators.ADD);
        out[outOff + 4] = a4.reduceLanes(VectorOperators.ADD);
        out[outOff + 5] = a5.reduceLanes(VectorOperators.ADD);
        out[outOff + 6] = a6.reduceLanes(VectorOperators.ADD);
        out[outOff + 7] = a7.reduceLanes(VectorOperators.ADD);
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
