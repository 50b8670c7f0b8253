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
 * Four consecutive Q8_0 rows times four activation rows, each weight vector converted in registers
 * once and fed to the four activation rows' products, each activation vector loaded once for the
 * four rows: sixteen accumulators. Made for decode steps batched across slots (four to seven
 * rows), where {@code MatVec.matmul} otherwise decodes the rows into a float buffer and multiplies
 * that in 4x4 tiles. 256- and 512-bit vectors (a byte vector of L lanes converts whole).
 *
 * <p>Each of the sixteen products adds in the order of the row kernels' {@code dot4} (per block, the
 * int8 values times the activations, lane-wise, then that times the block's scale into the
 * accumulator; the lanes folded as everywhere), so a sequence's step batched with others gives the
 * bits it gives alone ({@code serve --deterministic} keeps batching for Q8_0). Until session 49 the
 * weights were scaled before the products, one multiply fewer, which added in another order.
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
            // Block sums per (row, activation row): the first L lanes' products, then the rest fused in.
            FloatVector v0 = FloatVector.fromArray(F, x, x0 + c), v1 = FloatVector.fromArray(F, x, x1 + c);
            FloatVector v2 = FloatVector.fromArray(F, x, x2 + c), v3 = FloatVector.fromArray(F, x, x3 + c);
            FloatVector w = (FloatVector) ByteVector.fromMemorySegment(B, s, off + bo + 2, LE).convertShape(VectorOperators.B2F, F, 0);
            FloatVector p00 = w.mul(v0), p01 = w.mul(v1), p02 = w.mul(v2), p03 = w.mul(v3);
            w = (FloatVector) ByteVector.fromMemorySegment(B, s, o1 + bo + 2, LE).convertShape(VectorOperators.B2F, F, 0);
            FloatVector p10 = w.mul(v0), p11 = w.mul(v1), p12 = w.mul(v2), p13 = w.mul(v3);
            w = (FloatVector) ByteVector.fromMemorySegment(B, s, o2 + bo + 2, LE).convertShape(VectorOperators.B2F, F, 0);
            FloatVector p20 = w.mul(v0), p21 = w.mul(v1), p22 = w.mul(v2), p23 = w.mul(v3);
            w = (FloatVector) ByteVector.fromMemorySegment(B, s, o3 + bo + 2, LE).convertShape(VectorOperators.B2F, F, 0);
            FloatVector p30 = w.mul(v0), p31 = w.mul(v1), p32 = w.mul(v2), p33 = w.mul(v3);
            // The rest of the block written out per width: as an inner loop (one turn at 512 bits)
            // C2 compiled an OSR entry at its back-branch with 62 MB of arena, and the loop drew
            // profile-predicate traps (kernels/README.md, "What a kernel's compile costs").
            long q;
            if (L == 16) {
                q = bo + 18;
                v0 = FloatVector.fromArray(F, x, x0 + c + 16);
                v1 = FloatVector.fromArray(F, x, x1 + c + 16);
                v2 = FloatVector.fromArray(F, x, x2 + c + 16);
                v3 = FloatVector.fromArray(F, x, x3 + c + 16);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, off + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p00 = w.fma(v0, p00);
                p01 = w.fma(v1, p01);
                p02 = w.fma(v2, p02);
                p03 = w.fma(v3, p03);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o1 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p10 = w.fma(v0, p10);
                p11 = w.fma(v1, p11);
                p12 = w.fma(v2, p12);
                p13 = w.fma(v3, p13);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o2 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p20 = w.fma(v0, p20);
                p21 = w.fma(v1, p21);
                p22 = w.fma(v2, p22);
                p23 = w.fma(v3, p23);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o3 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p30 = w.fma(v0, p30);
                p31 = w.fma(v1, p31);
                p32 = w.fma(v2, p32);
                p33 = w.fma(v3, p33);
            } else {
                q = bo + 10;
                v0 = FloatVector.fromArray(F, x, x0 + c + 8);
                v1 = FloatVector.fromArray(F, x, x1 + c + 8);
                v2 = FloatVector.fromArray(F, x, x2 + c + 8);
                v3 = FloatVector.fromArray(F, x, x3 + c + 8);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, off + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p00 = w.fma(v0, p00);
                p01 = w.fma(v1, p01);
                p02 = w.fma(v2, p02);
                p03 = w.fma(v3, p03);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o1 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p10 = w.fma(v0, p10);
                p11 = w.fma(v1, p11);
                p12 = w.fma(v2, p12);
                p13 = w.fma(v3, p13);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o2 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p20 = w.fma(v0, p20);
                p21 = w.fma(v1, p21);
                p22 = w.fma(v2, p22);
                p23 = w.fma(v3, p23);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o3 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p30 = w.fma(v0, p30);
                p31 = w.fma(v1, p31);
                p32 = w.fma(v2, p32);
                p33 = w.fma(v3, p33);
                q = bo + 18;
                v0 = FloatVector.fromArray(F, x, x0 + c + 16);
                v1 = FloatVector.fromArray(F, x, x1 + c + 16);
                v2 = FloatVector.fromArray(F, x, x2 + c + 16);
                v3 = FloatVector.fromArray(F, x, x3 + c + 16);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, off + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p00 = w.fma(v0, p00);
                p01 = w.fma(v1, p01);
                p02 = w.fma(v2, p02);
                p03 = w.fma(v3, p03);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o1 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p10 = w.fma(v0, p10);
                p11 = w.fma(v1, p11);
                p12 = w.fma(v2, p12);
                p13 = w.fma(v3, p13);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o2 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p20 = w.fma(v0, p20);
                p21 = w.fma(v1, p21);
                p22 = w.fma(v2, p22);
                p23 = w.fma(v3, p23);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o3 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p30 = w.fma(v0, p30);
                p31 = w.fma(v1, p31);
                p32 = w.fma(v2, p32);
                p33 = w.fma(v3, p33);
                q = bo + 26;
                v0 = FloatVector.fromArray(F, x, x0 + c + 24);
                v1 = FloatVector.fromArray(F, x, x1 + c + 24);
                v2 = FloatVector.fromArray(F, x, x2 + c + 24);
                v3 = FloatVector.fromArray(F, x, x3 + c + 24);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, off + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p00 = w.fma(v0, p00);
                p01 = w.fma(v1, p01);
                p02 = w.fma(v2, p02);
                p03 = w.fma(v3, p03);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o1 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p10 = w.fma(v0, p10);
                p11 = w.fma(v1, p11);
                p12 = w.fma(v2, p12);
                p13 = w.fma(v3, p13);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o2 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p20 = w.fma(v0, p20);
                p21 = w.fma(v1, p21);
                p22 = w.fma(v2, p22);
                p23 = w.fma(v3, p23);
                w = (FloatVector) ByteVector.fromMemorySegment(B, s, o3 + q, LE).convertShape(VectorOperators.B2F, F, 0);
                p30 = w.fma(v0, p30);
                p31 = w.fma(v1, p31);
                p32 = w.fma(v2, p32);
                p33 = w.fma(v3, p33);
            }
            FloatVector d = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, off + bo) & 0xffff]);
            a00 = p00.fma(d, a00);
            a01 = p01.fma(d, a01);
            a02 = p02.fma(d, a02);
            a03 = p03.fma(d, a03);
            d = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1 + bo) & 0xffff]);
            a10 = p10.fma(d, a10);
            a11 = p11.fma(d, a11);
            a12 = p12.fma(d, a12);
            a13 = p13.fma(d, a13);
            d = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2 + bo) & 0xffff]);
            a20 = p20.fma(d, a20);
            a21 = p21.fma(d, a21);
            a22 = p22.fma(d, a22);
            a23 = p23.fma(d, a23);
            d = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3 + bo) & 0xffff]);
            a30 = p30.fma(d, a30);
            a31 = p31.fma(d, a31);
            a32 = p32.fma(d, a32);
            a33 = p33.fma(d, a33);
        }
        // The sixteen sums folded in scalars, in Simd's fixed order (Simd.foldLanes): sixteen vector folds
        // were ~130 of the Vector API calls C2 inlines one at a time, and with them the compile took
        // up to 82 MB of C heap, enough to push a capped run over its cgroup (kernels/README.md).
        float[] lanes = LANES.get();
        a00.intoArray(lanes, 0 * L);
        a01.intoArray(lanes, 1 * L);
        a02.intoArray(lanes, 2 * L);
        a03.intoArray(lanes, 3 * L);
        a10.intoArray(lanes, 4 * L);
        a11.intoArray(lanes, 5 * L);
        a12.intoArray(lanes, 6 * L);
        a13.intoArray(lanes, 7 * L);
        a20.intoArray(lanes, 8 * L);
        a21.intoArray(lanes, 9 * L);
        a22.intoArray(lanes, 10 * L);
        a23.intoArray(lanes, 11 * L);
        a30.intoArray(lanes, 12 * L);
        a31.intoArray(lanes, 13 * L);
        a32.intoArray(lanes, 14 * L);
        a33.intoArray(lanes, 15 * L);
        int p0 = b * rows + r, p1 = p0 + rows, p2 = p1 + rows, p3 = p2 + rows;
        out[p0] = Simd.foldLanes(lanes, 0 * L);
        out[p1] = Simd.foldLanes(lanes, 1 * L);
        out[p2] = Simd.foldLanes(lanes, 2 * L);
        out[p3] = Simd.foldLanes(lanes, 3 * L);
        out[p0 + 1] = Simd.foldLanes(lanes, 4 * L);
        out[p1 + 1] = Simd.foldLanes(lanes, 5 * L);
        out[p2 + 1] = Simd.foldLanes(lanes, 6 * L);
        out[p3 + 1] = Simd.foldLanes(lanes, 7 * L);
        out[p0 + 2] = Simd.foldLanes(lanes, 8 * L);
        out[p1 + 2] = Simd.foldLanes(lanes, 9 * L);
        out[p2 + 2] = Simd.foldLanes(lanes, 10 * L);
        out[p3 + 2] = Simd.foldLanes(lanes, 11 * L);
        out[p0 + 3] = Simd.foldLanes(lanes, 12 * L);
        out[p1 + 3] = Simd.foldLanes(lanes, 13 * L);
        out[p2 + 3] = Simd.foldLanes(lanes, 14 * L);
        out[p3 + 3] = Simd.foldLanes(lanes, 15 * L);
    }

    /** Per thread, the sixteen sums' lanes on their way to {@link Simd#foldLanes}. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[16 * L]);
}
