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
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) sum += scalar(s, off + 2L * c) * x[xOff + c];
        return sum;
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
