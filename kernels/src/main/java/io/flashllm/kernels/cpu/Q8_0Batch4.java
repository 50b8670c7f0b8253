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
 * Four consecutive Q8_0 rows times four activation rows, each weight vector decoded in registers
 * (widened, converted, scaled) and fed to four FMAs, each activation vector loaded once for the
 * four rows: sixteen accumulators. Made for decode steps batched across slots (four to seven
 * rows), where {@code MatVec.matmul} otherwise decodes the rows into a float buffer and multiplies
 * that in 4x4 tiles. 256- and 512-bit vectors (a byte vector of L lanes converts whole).
 */
final class Q8_0Batch4 {
    private static final int BYTES = 34;

    private Q8_0Batch4() {}

    /** Rows at {@code off + i*rowBytes} (i = 0..3) times x rows b..b+3: {@code out[(b+j)*rows + r+i]}. */
    static void dot4x4(MemorySegment s, long off, long rowBytes, int cols, float[] x, int b, int rows, int r, float[] out) {
        long o1 = off + rowBytes, o2 = o1 + rowBytes, o3 = o2 + rowBytes;
        int x0 = b * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        for (int blk = 0, blocks = cols / 32; blk < blocks; blk++) {
            long bo = (long) BYTES * blk;
            int c = 32 * blk;
            FloatVector d0 = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, off + bo) & 0xffff]);
            FloatVector d1 = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1 + bo) & 0xffff]);
            FloatVector d2 = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2 + bo) & 0xffff]);
            FloatVector d3 = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3 + bo) & 0xffff]);
            for (int j = 0; j < 32; j += L) {
                long q = bo + 2 + j;
                FloatVector v0 = FloatVector.fromArray(F, x, x0 + c + j), v1 = FloatVector.fromArray(F, x, x1 + c + j);
                FloatVector v2 = FloatVector.fromArray(F, x, x2 + c + j), v3 = FloatVector.fromArray(F, x, x3 + c + j);
                FloatVector w = ((FloatVector) ByteVector.fromMemorySegment(B, s, off + q, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d0);
                a00 = w.fma(v0, a00);
                a01 = w.fma(v1, a01);
                a02 = w.fma(v2, a02);
                a03 = w.fma(v3, a03);
                w = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + q, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d1);
                a10 = w.fma(v0, a10);
                a11 = w.fma(v1, a11);
                a12 = w.fma(v2, a12);
                a13 = w.fma(v3, a13);
                w = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + q, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d2);
                a20 = w.fma(v0, a20);
                a21 = w.fma(v1, a21);
                a22 = w.fma(v2, a22);
                a23 = w.fma(v3, a23);
                w = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + q, LE)
                        .convertShape(VectorOperators.B2F, F, 0)).mul(d3);
                a30 = w.fma(v0, a30);
                a31 = w.fma(v1, a31);
                a32 = w.fma(v2, a32);
                a33 = w.fma(v3, a33);
            }
        }
        // Written out rather than gathered in an array, as in TileDot: an array would escape C2.
        int p0 = b * rows + r, p1 = p0 + rows, p2 = p1 + rows, p3 = p2 + rows;
        out[p0] = a00.reduceLanes(VectorOperators.ADD);
        out[p1] = a01.reduceLanes(VectorOperators.ADD);
        out[p2] = a02.reduceLanes(VectorOperators.ADD);
        out[p3] = a03.reduceLanes(VectorOperators.ADD);
        out[p0 + 1] = a10.reduceLanes(VectorOperators.ADD);
        out[p1 + 1] = a11.reduceLanes(VectorOperators.ADD);
        out[p2 + 1] = a12.reduceLanes(VectorOperators.ADD);
        out[p3 + 1] = a13.reduceLanes(VectorOperators.ADD);
        out[p0 + 2] = a20.reduceLanes(VectorOperators.ADD);
        out[p1 + 2] = a21.reduceLanes(VectorOperators.ADD);
        out[p2 + 2] = a22.reduceLanes(VectorOperators.ADD);
        out[p3 + 2] = a23.reduceLanes(VectorOperators.ADD);
        out[p0 + 3] = a30.reduceLanes(VectorOperators.ADD);
        out[p1 + 3] = a31.reduceLanes(VectorOperators.ADD);
        out[p2 + 3] = a32.reduceLanes(VectorOperators.ADD);
        out[p3 + 3] = a33.reduceLanes(VectorOperators.ADD);
    }
}
