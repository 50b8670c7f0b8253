package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q8_0 with 256-bit vectors (AVX2: eight float lanes, sixteen registers): a block of 32 weights is
 * four 8-byte loads, each widened to eight floats in one conversion. The loops are written out for
 * that shape. Until session 23, {@link Q8_0Kernel}'s width-independent path ran at this width (an
 * inner loop per block, one row per call) and decoded llama 1.1B at a third of the 512-bit speed.
 *
 * <p>Four rows per call: eight accumulators, a block's four activation vectors and the temporaries
 * would leave sixteen registers no room (eight rows per call were not measured).
 */
final class Q8_0Kernel256 extends RowKernel {
    private static final int BYTES = 34;

    Q8_0Kernel256() {
        if (Simd.L != 8) throw new IllegalStateException("Q8_0Kernel256 needs 8 float lanes, have " + Simd.L);
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        int blocks = cols / 32;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            long o = off + (long) BYTES * b, p = o + BYTES;
            int xb = xOff + 32 * b;
            FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb));
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 8), s0);
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16), s0);
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 24), s0);
            FloatVector s1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb + 32));
            s1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 40), s1);
            s1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 48), s1);
            s1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, p + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 56), s1);
            a0 = s0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o) & 0xffff]), a0);
            a1 = s1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, p) & 0xffff]), a1);
        }
        if (b < blocks) {
            long o = off + (long) BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb));
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 8), s0);
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16), s0);
            s0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 24), s0);
            a0 = s0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o) & 0xffff]), a0);
        }
        FloatVector fold1 = a0.add(a1);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /** Two rows by one block per step, each activation vector loaded once for both. */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        int blocks = cols / 32;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xb + 16), x3 = FloatVector.fromArray(F, x, xb + 24);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p1);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p1);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p1);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
        }
        FloatVector fold2 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold3.lane(0) + fold3.lane(1);
    }

    /** Four rows by one block per step: four row streams in flight per core, x loaded once for four. */
    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        int blocks = cols / 32;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xb + 16), x3 = FloatVector.fromArray(F, x, xb + 24);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p0);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p1);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p1);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p1);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            FloatVector p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p2);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p2);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p2);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            FloatVector p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p3);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p3);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p3);
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

    /**
     * Gathered rows (the neuron cache's native rows) as two four-row calls of {@link #gathered4}, a
     * copy of {@link #dot4}: one compiled method fed both the mapped tensors and the cache's native
     * segments runs slower for both (see {@link RowKernel#dot8Gathered}).
     */
    @Override
    public void dot8Gathered(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5,
                             long off6, long off7, int cols, float[] x, int xOff, float[] prep, float[] out, int outOff) {
        gathered4(s, off0, off1, off2, off3, cols / 32, x, xOff, out, outOff);
        gathered4(s, off4, off5, off6, off7, cols / 32, x, xOff, out, outOff + 4);
    }

    private static void gathered4(MemorySegment s, long off0, long off1, long off2, long off3, int blocks,
                                  float[] x, int xOff, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xb + 16), x3 = FloatVector.fromArray(F, x, xb + 24);
            FloatVector p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p0);
            p0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p0);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            FloatVector p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p1);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p1);
            p1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p1);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            FloatVector p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p2);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p2);
            p2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p2);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            FloatVector p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 10, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x1, p3);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 18, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x2, p3);
            p3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 26, LE)
                    .convertShape(VectorOperators.B2F, F, 0)).fma(x3, p3);
            a3 = p3.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3) & 0xffff]), a3);
        }
        FloatVector fold8 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold8.lane(0) + fold8.lane(1);
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
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long o = off + (long) BYTES * b;
            FloatVector ad = FloatVector.broadcast(F, a * HALF[s.get(SHORT_LE, o) & 0xffff]);
            int ob = outOff + 32 * b;
            ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 2, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(ad, FloatVector.fromArray(F, out, ob)).intoArray(out, ob);
            ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 10, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(ad, FloatVector.fromArray(F, out, ob + 8)).intoArray(out, ob + 8);
            ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 18, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(ad, FloatVector.fromArray(F, out, ob + 16)).intoArray(out, ob + 16);
            ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 26, LE).convertShape(VectorOperators.B2F, F, 0))
                    .fma(ad, FloatVector.fromArray(F, out, ob + 24)).intoArray(out, ob + 24);
        }
    }

    /** Four rows by one block per step: the block's four output vectors loaded and stored once for four rows. */
    @Override
    public void axpy4(MemorySegment s, long off0, long off1, long off2, long off3, int cols,
                      float a0, float a1, float a2, float a3, float[] out, int outOff) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int ob = outOff + 32 * b;
            FloatVector v0 = FloatVector.fromArray(F, out, ob), v1 = FloatVector.fromArray(F, out, ob + 8);
            FloatVector v2 = FloatVector.fromArray(F, out, ob + 16), v3 = FloatVector.fromArray(F, out, ob + 24);
            FloatVector d0 = FloatVector.broadcast(F, a0 * HALF[s.get(SHORT_LE, o0) & 0xffff]);
            v0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d0, v0);
            v1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 10, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d0, v1);
            v2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 18, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d0, v2);
            v3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 26, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d0, v3);
            FloatVector d1 = FloatVector.broadcast(F, a1 * HALF[s.get(SHORT_LE, o1) & 0xffff]);
            v0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d1, v0);
            v1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 10, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d1, v1);
            v2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 18, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d1, v2);
            v3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 26, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d1, v3);
            FloatVector d2 = FloatVector.broadcast(F, a2 * HALF[s.get(SHORT_LE, o2) & 0xffff]);
            v0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d2, v0);
            v1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 10, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d2, v1);
            v2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 18, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d2, v2);
            v3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 26, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d2, v3);
            FloatVector d3 = FloatVector.broadcast(F, a3 * HALF[s.get(SHORT_LE, o3) & 0xffff]);
            v0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d3, v0);
            v1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 10, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d3, v1);
            v2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 18, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d3, v2);
            v3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 26, LE).convertShape(VectorOperators.B2F, F, 0)).fma(d3, v3);
            v0.intoArray(out, ob);
            v1.intoArray(out, ob + 8);
            v2.intoArray(out, ob + 16);
            v3.intoArray(out, ob + 24);
        }
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long o = off + (long) BYTES * b;
            FloatVector d = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o) & 0xffff]);
            int ob = outOff + 32 * b;
            ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 2, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(d).intoArray(out, ob);
            ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 10, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(d).intoArray(out, ob + 8);
            ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 18, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(d).intoArray(out, ob + 16);
            ((FloatVector) ByteVector.fromMemorySegment(B, s, o + 26, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(d).intoArray(out, ob + 24);
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
