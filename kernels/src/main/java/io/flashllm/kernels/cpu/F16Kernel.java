package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.S;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * IEEE half floats, widened in registers with integer arithmetic only: normal values are rebiased
 * by adding to the exponent field; subnormals (exponent 0) are the mantissa times 2^-24, computed
 * as int-to-float then a multiply by a normal number; exponent 31 becomes infinity or NaN with the
 * payload kept. The obvious trick (shift, then multiply by 2^112) is exact too, but hands
 * denormal operands to the FPU, which costs a microcode assist each: measured 13x slower on
 * all-subnormal rows and 30% slower on realistic weights (std 0.02). The steps are written out in
 * each loop because a vector passed through a call that C2 declines to inline gets boxed.
 */
final class F16Kernel extends RowKernel {

    private static float scalar(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT_LE, off));
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(F);
        int c = 0;
        for (; c <= cols - L; c += L) {
            IntVector i = (IntVector) ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector sign = i.and(0x8000).lanewise(VectorOperators.LSHL, 16);
            IntVector em = i.and(0x7fff);
            IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
            IntVector sub = ((FloatVector) em.convert(VectorOperators.I2F, 0)).mul(0x1p-24f).reinterpretAsInts();
            IntVector bits = shifted.add(112 << 23)
                    .blend(sub, em.compare(VectorOperators.LT, 0x0400))
                    .blend(shifted.or(0x7f800000), em.compare(VectorOperators.GE, 0x7c00));
            acc = bits.or(sign).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOff + c), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; c < cols; c++) sum += scalar(s, off + 2L * c) * x[xOff + c];
        return sum;
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        apply(s, off, cols, a, out, outOff, true);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        apply(s, off, cols, 1f, out, outOff, false);
    }

    private static void apply(MemorySegment s, long off, int cols, float a, float[] out, int outOff, boolean accumulate) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            IntVector i = (IntVector) ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0);
            IntVector sign = i.and(0x8000).lanewise(VectorOperators.LSHL, 16);
            IntVector em = i.and(0x7fff);
            IntVector shifted = em.lanewise(VectorOperators.LSHL, 13);
            IntVector sub = ((FloatVector) em.convert(VectorOperators.I2F, 0)).mul(0x1p-24f).reinterpretAsInts();
            IntVector bits = shifted.add(112 << 23)
                    .blend(sub, em.compare(VectorOperators.LT, 0x0400))
                    .blend(shifted.or(0x7f800000), em.compare(VectorOperators.GE, 0x7c00));
            FloatVector w = bits.or(sign).reinterpretAsFloats();
            if (accumulate) {
                w.fma(FloatVector.broadcast(F, a), FloatVector.fromArray(F, out, outOff + c)).intoArray(out, outOff + c);
            } else {
                w.intoArray(out, outOff + c);
            }
        }
        for (; c < cols; c++) {
            float w = scalar(s, off + 2L * c);
            out[outOff + c] = accumulate ? out[outOff + c] + a * w : w;
        }
    }
}
