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
