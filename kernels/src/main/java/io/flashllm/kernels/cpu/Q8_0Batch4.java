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
            for (int j = L; j < 32; j += L) {
                long q = bo + 2 + j;
                v0 = FloatVector.fromArray(F, x, x0 + c + j);
                v1 = FloatVector.fromArray(F, x, x1 + c + j);
                v2 = FloatVector.fromArray(F, x, x2 + c + j);
                v3 = FloatVector.fromArray(F, x, x3 + c + j);
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
        // Written out rather than gathered in an array, as in TileDot: an array would escape C2.
        int p0 = b * rows + r, p1 = p0 + rows, p2 = p1 + rows, p3 = p2 + rows;
        FloatVector fold1 = a00.add(a00.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p0] = fold1.lane(0) + fold1.lane(1);
        FloatVector fold2 = a01.add(a01.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p1] = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = a02.add(a02.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p2] = fold3.lane(0) + fold3.lane(1);
        FloatVector fold4 = a03.add(a03.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p3] = fold4.lane(0) + fold4.lane(1);
        FloatVector fold5 = a10.add(a10.rearrange(Simd.FOLD_1));
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p0 + 1] = fold5.lane(0) + fold5.lane(1);
        FloatVector fold6 = a11.add(a11.rearrange(Simd.FOLD_1));
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p1 + 1] = fold6.lane(0) + fold6.lane(1);
        FloatVector fold7 = a12.add(a12.rearrange(Simd.FOLD_1));
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p2 + 1] = fold7.lane(0) + fold7.lane(1);
        FloatVector fold8 = a13.add(a13.rearrange(Simd.FOLD_1));
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p3 + 1] = fold8.lane(0) + fold8.lane(1);
        FloatVector fold9 = a20.add(a20.rearrange(Simd.FOLD_1));
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p0 + 2] = fold9.lane(0) + fold9.lane(1);
        FloatVector fold10 = a21.add(a21.rearrange(Simd.FOLD_1));
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p1 + 2] = fold10.lane(0) + fold10.lane(1);
        FloatVector fold11 = a22.add(a22.rearrange(Simd.FOLD_1));
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p2 + 2] = fold11.lane(0) + fold11.lane(1);
        FloatVector fold12 = a23.add(a23.rearrange(Simd.FOLD_1));
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p3 + 2] = fold12.lane(0) + fold12.lane(1);
        FloatVector fold13 = a30.add(a30.rearrange(Simd.FOLD_1));
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p0 + 3] = fold13.lane(0) + fold13.lane(1);
        FloatVector fold14 = a31.add(a31.rearrange(Simd.FOLD_1));
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p1 + 3] = fold14.lane(0) + fold14.lane(1);
        FloatVector fold15 = a32.add(a32.rearrange(Simd.FOLD_1));
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p2 + 3] = fold15.lane(0) + fold15.lane(1);
        FloatVector fold16 = a33.add(a33.rearrange(Simd.FOLD_1));
        fold16 = fold16.add(fold16.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold16 = fold16.add(fold16.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[p3 + 3] = fold16.lane(0) + fold16.lane(1);
    }
}
