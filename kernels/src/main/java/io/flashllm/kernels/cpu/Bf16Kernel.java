package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.S;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/** bfloat16, widened in registers by a shift. */
final class Bf16Kernel extends RowKernel {

    private static float scalar(MemorySegment s, long off) {
        return Float.intBitsToFloat((s.get(SHORT_LE, off) & 0xffff) << 16);
    }

    private static FloatVector load(MemorySegment s, long off) {
        return Simd.bf16ToFloat(ShortVector.fromMemorySegment(S, s, off, LE));
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        for (; c <= cols - 2 * L; c += 2 * L) {
            long o = off + 2L * c;
            a0 = load(s, o).fma(FloatVector.fromArray(F, x, xOff + c), a0);
            a1 = load(s, o + 2L * L).fma(FloatVector.fromArray(F, x, xOff + c + L), a1);
        }
        for (; c <= cols - L; c += L) {
            a0 = load(s, off + 2L * c).fma(FloatVector.fromArray(F, x, xOff + c), a0);
        }
        float sum = a0.add(a1).reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) sum += scalar(s, off + 2L * c) * x[xOff + c];
        return sum;
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            load(s, off + 2L * c).fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, out, outOff + c)).intoArray(out, outOff + c);
        }
        for (; c < cols; c++) out[outOff + c] += a * scalar(s, off + 2L * c);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            load(s, off + 2L * c).intoArray(out, outOff + c);
        }
        for (; c < cols; c++) out[outOff + c] = scalar(s, off + 2L * c);
    }
}
