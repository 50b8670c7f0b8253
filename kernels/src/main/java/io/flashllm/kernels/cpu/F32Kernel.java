package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.FLOAT_LE;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;

/** Plain floats; four independent accumulators hide the FMA latency. */
final class F32Kernel extends RowKernel {

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= cols - 4 * L; c += 4 * L) {
            long o = off + 4L * c;
            a0 = FloatVector.fromMemorySegment(F, s, o, LE).fma(FloatVector.fromArray(F, x, xOff + c), a0);
            a1 = FloatVector.fromMemorySegment(F, s, o + 4L * L, LE).fma(FloatVector.fromArray(F, x, xOff + c + L), a1);
            a2 = FloatVector.fromMemorySegment(F, s, o + 8L * L, LE).fma(FloatVector.fromArray(F, x, xOff + c + 2 * L), a2);
            a3 = FloatVector.fromMemorySegment(F, s, o + 12L * L, LE).fma(FloatVector.fromArray(F, x, xOff + c + 3 * L), a3);
        }
        for (; c <= cols - L; c += L) {
            a0 = FloatVector.fromMemorySegment(F, s, off + 4L * c, LE).fma(FloatVector.fromArray(F, x, xOff + c), a0);
        }
        FloatVector fold1 = a0.add(a1).add(a2.add(a3));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float sum = fold1.lane(0) + fold1.lane(1);
        for (; c < cols; c++) sum += s.get(FLOAT_LE, off + 4L * c) * x[xOff + c];
        return sum;
    }

    /** Four rows sharing each activation load: streaming from DRAM a core keeps four rows in flight. */
    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= cols - L; c += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
            long o = 4L * c;
            a0 = FloatVector.fromMemorySegment(F, s, off0 + o, LE).fma(xv, a0);
            a1 = FloatVector.fromMemorySegment(F, s, off1 + o, LE).fma(xv, a1);
            a2 = FloatVector.fromMemorySegment(F, s, off2 + o, LE).fma(xv, a2);
            a3 = FloatVector.fromMemorySegment(F, s, off3 + o, LE).fma(xv, a3);
        }
        FloatVector fold2 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        FloatVector fold3 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float r0 = (fold2.lane(0) + fold2.lane(1)), r1 = fold3.lane(0) + fold3.lane(1);
        FloatVector fold4 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        FloatVector fold5 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float r2 = (fold4.lane(0) + fold4.lane(1)), r3 = fold5.lane(0) + fold5.lane(1);
        for (; c < cols; c++) {
            float xc = x[xOff + c];
            r0 += s.get(FLOAT_LE, off0 + 4L * c) * xc;
            r1 += s.get(FLOAT_LE, off1 + 4L * c) * xc;
            r2 += s.get(FLOAT_LE, off2 + 4L * c) * xc;
            r3 += s.get(FLOAT_LE, off3 + 4L * c) * xc;
        }
        out[outOff] = r0;
        out[outOff + 1] = r1;
        out[outOff + 2] = r2;
        out[outOff + 3] = r3;
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            FloatVector w = FloatVector.fromMemorySegment(F, s, off + 4L * c, LE);
            w.fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, out, outOff + c)).intoArray(out, outOff + c);
        }
        for (; c < cols; c++) out[outOff + c] += a * s.get(FLOAT_LE, off + 4L * c);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            FloatVector.fromMemorySegment(F, s, off + 4L * c, LE).intoArray(out, outOff + c);
        }
        for (; c < cols; c++) out[outOff + c] = s.get(FLOAT_LE, off + 4L * c);
    }
}
