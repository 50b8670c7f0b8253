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
 * IEEE half floats widened in registers, as loaded: the half's sign, exponent and mantissa are
 * shifted into a float's places and the result multiplied by 2^112, the difference of the two
 * exponent biases. That one multiply is exact for every finite half, subnormals and zeros included
 * (a subnormal half becomes a subnormal float operand and a normal product); an exponent of 31
 * (infinity, NaN) is then given a float's all-ones exponent with the payload kept. Per vector: a
 * widening, a shift, a mask and the multiply, then a mask, a compare and a blend for exponent 31,
 * with no buffer between the load and the FMA, so the rows stream from DRAM like
 * {@link Bf16Kernel}'s.
 *
 * <p>Where a multiply with a subnormal operand costs no more than another (AMD Zen; measured on a
 * Zen 4 with rows of nothing but subnormals), this is the F16 kernel: on the Zen 4 one core
 * streamed a 4-row product from DRAM at 16.5 GB/s against 7.4 for {@link F16Kernel}'s buffered
 * conversion (13.6 against 7.7 at 256 bits). Intel cores take a microcode assist for such an
 * operand (13x slower on subnormal rows on the Xeon of the project's first sittings), and realistic
 * weights (std 0.02) are ~0.2% subnormal, so there {@link F16Kernel} stays; see
 * {@link RowKernel#forType}.
 *
 * <p>The steps are written out in each loop: a vector passed through a call that C2 declines to
 * inline gets boxed.
 */
final class F16MultiplyKernel extends RowKernel {
    /** A float's bits for a half shifted into place: sign (bit 31), exponent (27..23), mantissa (22..13). */
    private static final int PLACED = 0x8fffffff;
    /** The half's exponent field at its float place; all ones means infinity or NaN. */
    private static final int EXPONENT_31 = 0x0f800000;
    private static final int FLOAT_EXPONENT = 0x7f800000;
    /** 2^(127 - 15): a float with a half's exponent field reads 2^-112 of the half's value. */
    private static final float REBIAS = 0x1p112f;

    private static float scalar(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT_LE, off));
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        for (; c <= cols - 2 * L; c += 2 * L) {
            IntVector p0 = ((IntVector) ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w0 = p0.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            a0 = w0.blend(w0.or(FLOAT_EXPONENT), p0.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOff + c), a0);
            IntVector p1 = ((IntVector) ShortVector.fromMemorySegment(S, s, off + 2L * (c + L), LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w1 = p1.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            a1 = w1.blend(w1.or(FLOAT_EXPONENT), p1.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOff + c + L), a1);
        }
        for (; c <= cols - L; c += L) {
            IntVector p0 = ((IntVector) ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w0 = p0.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            a0 = w0.blend(w0.or(FLOAT_EXPONENT), p0.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xOff + c), a0);
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
            IntVector p0 = ((IntVector) ShortVector.fromMemorySegment(S, s, off0 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w0 = p0.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            a0 = w0.blend(w0.or(FLOAT_EXPONENT), p0.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().fma(xv, a0);
            IntVector p1 = ((IntVector) ShortVector.fromMemorySegment(S, s, off1 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w1 = p1.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            a1 = w1.blend(w1.or(FLOAT_EXPONENT), p1.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().fma(xv, a1);
            IntVector p2 = ((IntVector) ShortVector.fromMemorySegment(S, s, off2 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w2 = p2.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            a2 = w2.blend(w2.or(FLOAT_EXPONENT), p2.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().fma(xv, a2);
            IntVector p3 = ((IntVector) ShortVector.fromMemorySegment(S, s, off3 + o, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w3 = p3.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            a3 = w3.blend(w3.or(FLOAT_EXPONENT), p3.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().fma(xv, a3);
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
            IntVector p = ((IntVector) ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w = p.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            w.blend(w.or(FLOAT_EXPONENT), p.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().fma(av, FloatVector.fromArray(F, out, outOff + c)).intoArray(out, outOff + c);
        }
        for (; c < cols; c++) out[outOff + c] += a * scalar(s, off + 2L * c);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            IntVector p = ((IntVector) ShortVector.fromMemorySegment(S, s, off + 2L * c, LE).convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(PLACED);
            IntVector w = p.reinterpretAsFloats().mul(REBIAS).reinterpretAsInts();
            w.blend(w.or(FLOAT_EXPONENT), p.and(EXPONENT_31).compare(VectorOperators.EQ, EXPONENT_31))
                    .reinterpretAsFloats().intoArray(out, outOff + c);
        }
        for (; c < cols; c++) out[outOff + c] = scalar(s, off + 2L * c);
    }
}
