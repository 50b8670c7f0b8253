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
 * IEEE half floats on Intel CPUs ({@link RowKernel#forType}; elsewhere {@link F16MultiplyKernel},
 * which streams from DRAM twice as fast but hands subnormal operands to the multiplier). Rows are widened {@link #CHUNK} columns at a time (see {@link #widen}) by a
 * plain counted loop of {@link Float#float16ToFloat} into a per-thread buffer in L1, which C2
 * auto-vectorizes into {@code vcvtph2ps}: exact for every input (normals, subnormals, infinities,
 * NaNs; the scalar conversion is the same instruction), one conversion per 16 weights instead of
 * about twelve integer operations; the buffer is then consumed by vector FMAs. KernelBench in L2
 * on one AVX-512 core (4096 columns): 12.6 -> 17 GB/cpu-s; a standalone loop of the same kind
 * reached 27 with 1024-float chunks and only 14 with 256 (the vectorized loop's pre- and
 * post-loops), hence the chunk size.
 *
 * <p>Rows shorter than a chunk (attention over an F16 KV cache: one head, 64-128 columns) and the
 * last partial chunk of a row keep the in-register widening, which needs no buffer and no chunk
 * set-up, with integer arithmetic only: normal values are rebiased by adding to the exponent
 * field; subnormals (exponent 0) are the mantissa times 2^-24, computed as int-to-float then a
 * multiply by a normal number; exponent 31 becomes infinity or NaN with the payload kept. The
 * obvious trick (shift, then multiply by 2^112) is exact too, but hands denormal operands to the
 * FPU, which costs a microcode assist each: measured 13x slower on all-subnormal rows and 30%
 * slower on realistic weights (std 0.02). The steps are written out in each loop because a vector
 * passed through a call that C2 declines to inline gets boxed.
 */
final class F16Kernel extends RowKernel {
    /** Floats converted per chunk; 4 KiB, so the buffer stays in L1 between the conversion and the FMAs. */
    private static final int CHUNK = 1024;
    private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[4 * CHUNK]);

    private static final ThreadLocal<short[]> HALVES = ThreadLocal.withInitial(() -> new short[CHUNK]);

    /**
     * {@code buf = W[off .. off + CHUNK)}: a bulk copy of the halves into a short array, then a
     * plain loop over arrays with a constant trip count, which C2 vectorizes into vcvtph2ps.
     * Converting straight from the segment in that loop vectorizes as well, but with segments of
     * different sizes and bases (the benchmark's, the engine's) C2's profiled loop predicates for
     * the segment accesses kept failing and it recompiled the loop endlessly.
     */
    private static void widen(MemorySegment s, long off, float[] buf) {
        widen(s, off, buf, 0);
    }

    /** {@code buf[at .. at + CHUNK) = W[off .. off + CHUNK)}. */
    private static void widen(MemorySegment s, long off, float[] buf, int at) {
        short[] h = HALVES.get();
        MemorySegment.copy(s, SHORT_LE, off, h, 0, CHUNK);
        for (int i = 0; i < CHUNK; i++) buf[at + i] = Float.float16ToFloat(h[i]);
    }

    /**
     * Four rows: each chunk of the four is converted, then one pass of FMAs shares the activation
     * loads; streaming from DRAM this keeps four rows' lines in flight.
     */
    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        if (cols < CHUNK) {
            super.dot4(s, off0, off1, off2, off3, cols, x, xOff, prep, out, outOff);
            return;
        }
        float[] buf = BUFFER.get();
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int c = 0;
        for (; c <= cols - CHUNK; c += CHUNK) {
            widen(s, off0 + 2L * c, buf, 0);
            widen(s, off1 + 2L * c, buf, CHUNK);
            widen(s, off2 + 2L * c, buf, 2 * CHUNK);
            widen(s, off3 + 2L * c, buf, 3 * CHUNK);
            for (int i = 0; i < CHUNK; i += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + c + i);
                a0 = FloatVector.fromArray(F, buf, i).fma(xv, a0);
                a1 = FloatVector.fromArray(F, buf, CHUNK + i).fma(xv, a1);
                a2 = FloatVector.fromArray(F, buf, 2 * CHUNK + i).fma(xv, a2);
                a3 = FloatVector.fromArray(F, buf, 3 * CHUNK + i).fma(xv, a3);
            }
        }
        FloatVector fold1 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        FloatVector fold2 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float r0 = (fold1.lane(0) + fold1.lane(1)), r1 = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        FloatVector fold4 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float r2 = (fold3.lane(0) + fold3.lane(1)), r3 = fold4.lane(0) + fold4.lane(1);
        if (c < cols) {
            r0 += dotRegisters(s, off0 + 2L * c, cols - c, x, xOff + c);
            r1 += dotRegisters(s, off1 + 2L * c, cols - c, x, xOff + c);
            r2 += dotRegisters(s, off2 + 2L * c, cols - c, x, xOff + c);
            r3 += dotRegisters(s, off3 + 2L * c, cols - c, x, xOff + c);
        }
        out[outOff] = r0;
        out[outOff + 1] = r1;
        out[outOff + 2] = r2;
        out[outOff + 3] = r3;
    }

    private static float scalar(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT_LE, off));
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        if (cols < CHUNK) return dotRegisters(s, off, cols, x, xOff);
        // Whole chunks through the conversion buffer, the rest in registers.
        float[] buf = BUFFER.get();
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int c = 0;
        for (; c <= cols - CHUNK; c += CHUNK) {
            widen(s, off + 2L * c, buf);
            for (int i = 0; i < CHUNK; i += 2 * L) {
                a0 = FloatVector.fromArray(F, buf, i).fma(FloatVector.fromArray(F, x, xOff + c + i), a0);
                a1 = FloatVector.fromArray(F, buf, i + L).fma(FloatVector.fromArray(F, x, xOff + c + i + L), a1);
            }
        }
        FloatVector fold5 = a0.add(a1);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_1));
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float sum = fold5.lane(0) + fold5.lane(1);
        return c == cols ? sum : sum + dotRegisters(s, off + 2L * c, cols - c, x, xOff + c);
    }

    /** The in-register widening; see the class comment. */
    private static float dotRegisters(MemorySegment s, long off, int cols, float[] x, int xOff) {
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
        FloatVector fold6 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        float sum = fold6.lane(0) + fold6.lane(1);
        for (; c < cols; c++) sum += scalar(s, off + 2L * c) * x[xOff + c];
        return sum;
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        int c = 0;
        if (cols >= CHUNK) {
            float[] buf = BUFFER.get();
            FloatVector av = FloatVector.broadcast(F, a);
            for (; c <= cols - CHUNK; c += CHUNK) {
                widen(s, off + 2L * c, buf);
                int o = outOff + c;
                for (int i = 0; i < CHUNK; i += L) {
                    FloatVector.fromArray(F, buf, i).fma(av, FloatVector.fromArray(F, out, o + i)).intoArray(out, o + i);
                }
            }
        }
        if (c < cols) apply(s, off + 2L * c, cols - c, a, out, outOff + c, true);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int c = 0;
        if (cols >= CHUNK) {
            float[] buf = BUFFER.get();
            for (; c <= cols - CHUNK; c += CHUNK) {
                widen(s, off + 2L * c, buf);
                System.arraycopy(buf, 0, out, outOff + c, CHUNK);
            }
        }
        if (c < cols) apply(s, off + 2L * c, cols - c, 1f, out, outOff + c, false);
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
