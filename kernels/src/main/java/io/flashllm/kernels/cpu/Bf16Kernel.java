package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.S;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/** bfloat16: the top half of a float, widened in registers by a shift. Loops are flat; see {@link Q8_0Kernel}. */
final class Bf16Kernel extends RowKernel {

    private static float scalar(MemorySegment s, long off) {
        return Float.intBitsToFloat((s.get(SHORT_LE, off) & 0xffff) << 16);
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        for (; c <= cols - 2 * L; c += 2 * L) {
            FloatVector w0 = ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            FloatVector w1 = ShortVector.fromMemorySegment(S, s, off + 2L * (c + L), LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a0 = w0.fma(FloatVector.fromArray(F, x, xOff + c), a0);
            a1 = w1.fma(FloatVector.fromArray(F, x, xOff + c + L), a1);
        }
        for (; c <= cols - L; c += L) {
            FloatVector w0 = ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            a0 = w0.fma(FloatVector.fromArray(F, x, xOff + c), a0);
        }
        FloatVector fold1 = a0.add(a1);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float sum = fold1.lane(0) + fold1.lane(1);
        for (; c < cols; c++) sum += scalar(s, off + 2L * c) * x[xOff + c];
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
            long o = 2L * c;
            a0 = ShortVector.fromMemorySegment(S, s, off0 + o, LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a0);
            a1 = ShortVector.fromMemorySegment(S, s, off1 + o, LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a1);
            a2 = ShortVector.fromMemorySegment(S, s, off2 + o, LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a2);
            a3 = ShortVector.fromMemorySegment(S, s, off3 + o, LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xv, a3);
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
            r0 += scalar(s, off0 + 2L * c) * xc;
            r1 += scalar(s, off1 + 2L * c) * xc;
            r2 += scalar(s, off2 + 2L * c) * xc;
            r3 += scalar(s, off3 + 2L * c) * xc;
        }
        out[outOff] = r0;
        out[outOff + 1] = r1;
        out[outOff + 2] = r2;
        out[outOff + 3] = r3;
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        FloatVector av = FloatVector.broadcast(F, a);
        int c = 0;
        for (; c <= cols - L; c += L) {
            FloatVector w = ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
            w.fma(av, FloatVector.fromArray(F, out, outOff + c)).intoArray(out, outOff + c);
        }
        for (; c < cols; c++) out[outOff + c] += a * scalar(s, off + 2L * c);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0)
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, outOff + c);
        }
        for (; c < cols; c++) out[outOff + c] = scalar(s, off + 2L * c);
    }
}
