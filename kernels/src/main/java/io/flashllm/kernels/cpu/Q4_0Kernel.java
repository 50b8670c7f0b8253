package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q4_0: blocks of 18 bytes, an f16 scale then 16 bytes whose low nibbles are elements 0..15 and
 * high nibbles 16..31, each stored plus 8.
 *
 * <p>The multi-row kernels ({@link #dot4}, {@link #dot2}), which {@code MatVec} uses for all but
 * a last odd row, take the offset out of the loop: {@code sum((q-8) x) = sum(q x) - 8 sum(x)},
 * with the per-block sums of x computed once per product by {@link #prepare} (one vector per
 * block, folded lane by lane) and used as the initial value of each block's products. They do
 * not shift out the high nibbles either: a byte q = 16h + l converts to float whole, and
 * {@code l*xl + h*xh = l*(xl - xh/16) + q*(xh/16)}, with both factors of x also prepared once per
 * product. A block of one row is then: zero-extend the 16 bytes to ints (vpmovzxbd), the low
 * nibbles by a mask, two int-to-float conversions and three FMAs (seven vector uops, eight with
 * the shift), the scale broadcast straight from {@link Simd#HALF}. KernelBench, one AVX-512
 * core in L2: 10.3-10.4 GB/cpu-s against 9.2 with the shift, and 6.3 for the row-by-row
 * {@link #dot16} (which removes the offset in the byte lanes, as {@code dot} still does for
 * single rows). Loops are flat; see {@link Q8_0Kernel}.
 */
final class Q4_0Kernel extends RowKernel {
    private static final int BYTES = 18;

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        return L == 16 ? dot16(s, off, cols / 32, x, xOff) : dotAny(s, off, cols / 32, x, xOff);
    }

    /** 512-bit vectors: the 16 quant bytes of a block give exactly the low and the high vector. */
    private static float dot16(MemorySegment s, long off, int blocks, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            long bo = off + (long) BYTES * b;
            int xb = xOff + 32 * b;
            ByteVector q0 = ByteVector.fromMemorySegment(B, s, bo + 2, LE);
            ByteVector q1 = ByteVector.fromMemorySegment(B, s, bo + BYTES + 2, LE);
            FloatVector p0 = ((FloatVector) q0.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb));
            p0 = ((FloatVector) q0.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 16), p0);
            FloatVector p1 = ((FloatVector) q1.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb + 32));
            p1 = ((FloatVector) q1.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 48), p1);
            a0 = p0.fma(FloatVector.broadcast(F, Simd.f16(s, bo)), a0);
            a1 = p1.fma(FloatVector.broadcast(F, Simd.f16(s, bo + BYTES)), a1);
        }
        if (b < blocks) {
            long bo = off + (long) BYTES * b;
            int xb = xOff + 32 * b;
            ByteVector q0 = ByteVector.fromMemorySegment(B, s, bo + 2, LE);
            FloatVector p0 = ((FloatVector) q0.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                    .mul(FloatVector.fromArray(F, x, xb));
            p0 = ((FloatVector) q0.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0))
                    .fma(FloatVector.fromArray(F, x, xb + 16), p0);
            a0 = p0.fma(FloatVector.broadcast(F, Simd.f16(s, bo)), a0);
        }
        FloatVector fold1 = a0.add(a1);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    private static float dotAny(MemorySegment s, long off, int blocks, float[] x, int xOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            int xb = xOff + 32 * b;
            FloatVector pLo = FloatVector.zero(F), pHi = pLo;
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE);
                FloatVector lo = (FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
                FloatVector hi = (FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
                pLo = lo.fma(FloatVector.fromArray(F, x, xb + j), pLo);
                pHi = hi.fma(FloatVector.fromArray(F, x, xb + 16 + j), pHi);
            }
            FloatVector d = FloatVector.broadcast(F, Simd.f16(s, bo));
            a0 = pLo.fma(d, a0);
            a1 = pHi.fma(d, a1);
        }
        FloatVector fold2 = a0.add(a1);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold2.lane(0) + fold2.lane(1);
    }

    /** Floats of {@link #prepare}'s output per block: the offset vector, then x1 and x2 (16 each). */
    private static final int PREP = L + 32;

    @Override
    public int prepSize(int cols) {
        return cols / 32 * PREP;
    }

    /**
     * Per block of 32 activations (xl = elements 0..15, xh = 16..31): L floats whose lane i holds
     * -8 times the sum of x over the block's columns i mod L, then {@code x1 = xl - xh/16} and
     * {@code x2 = xh/16}. With a quant byte q = 16h + l (h, l its nibbles),
     * {@code l*xl + h*xh = l*(xl - xh/16) + q*(xh/16)}: the row kernels convert the whole byte
     * instead of shifting out the high nibble.
     */
    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            int xb = xOff + 32 * b, pb = PREP * b;
            FloatVector sum = FloatVector.fromArray(F, x, xb);
            for (int j = L; j < 32; j += L) sum = sum.add(FloatVector.fromArray(F, x, xb + j));
            sum.mul(-8f).intoArray(prep, pb);
            for (int j = 0; j < 16; j += L) {
                FloatVector x2 = FloatVector.fromArray(F, x, xb + 16 + j).mul(1f / 16);
                FloatVector.fromArray(F, x, xb + j).sub(x2).intoArray(prep, pb + L + j);
                x2.intoArray(prep, pb + L + 16 + j);
            }
        }
    }

    /**
     * 512-bit vectors, 2 rows; see {@link #dot4x16}.
     */
    private static void dot2x16(MemorySegment s, long off0, long off1, int blocks,
                                float[] prep, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d;
            int pb = PREP * b;
            FloatVector c = FloatVector.fromArray(F, prep, pb);
            FloatVector x1 = FloatVector.fromArray(F, prep, pb + 16), x2 = FloatVector.fromArray(F, prep, pb + 32);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = ((FloatVector) q0.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).fma(x2, p0);
            FloatVector p1 = ((FloatVector) q1.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x2, p1);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
        }
        FloatVector fold3 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 0] = fold3.lane(0) + fold3.lane(1);
        FloatVector fold4 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold4.lane(0) + fold4.lane(1);
    }

    /**
     * 512-bit vectors, 4 rows: a block is the 16 quant bytes zero-extended to int lanes, the low
     * nibbles (a mask) and the whole bytes converted to float and multiplied with the prepared
     * x1 and x2 (see {@link #prepare}), written out without an inner loop (when the kernel still
     * shifted the high nibbles: 8.8-9.0 GB/cpu-s in L2 against 8.2-8.6 for the generic loop over
     * {@code j}, one iteration at this width).
     * The block index is the loop variable and the row offsets are linear in it, so C2 hoists the
     * segment bounds checks: with four offsets as their own induction variables it was faster in
     * KernelBench (11.1 against 10.4 GB/cpu-s in L2) but slower end to end (20 against 22 tok/s
     * decoding llama 1.1B Q4_0 on two threads); C2 left the checks in that loop.
     */
    private static void dot4x16(MemorySegment s, long off0, long off1, long off2, long off3, int blocks,
                                float[] prep, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int pb = PREP * b;
            FloatVector c = FloatVector.fromArray(F, prep, pb);
            FloatVector x1 = FloatVector.fromArray(F, prep, pb + 16), x2 = FloatVector.fromArray(F, prep, pb + 32);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = ((FloatVector) q0.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).fma(x2, p0);
            FloatVector p1 = ((FloatVector) q1.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x2, p1);
            FloatVector p2 = ((FloatVector) q2.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).fma(x2, p2);
            FloatVector p3 = ((FloatVector) q3.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).fma(x2, p3);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3) & 0xffff]), a3);
        }
        FloatVector fold5 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 0] = fold5.lane(0) + fold5.lane(1);
        FloatVector fold6 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold6.lane(0) + fold6.lane(1);
        FloatVector fold7 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold7 = fold7.add(fold7.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold7.lane(0) + fold7.lane(1);
        FloatVector fold8 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold8 = fold8.add(fold8.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold8.lane(0) + fold8.lane(1);
    }

    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        if (L == 16) {
            dot2x16(s, off0, off1, cols / 32, prep, out, outOff);
            return;
        }
        if (L == 8) {
            dot2x8(s, off0, off1, cols / 32, prep, out, outOff);
            return;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d;
            int pb = PREP * b;
            FloatVector p0 = FloatVector.fromArray(F, prep, pb), p1 = p0;
            for (int j = 0; j < 16; j += L) {
                FloatVector x1 = FloatVector.fromArray(F, prep, pb + L + j), x2 = FloatVector.fromArray(F, prep, pb + L + 16 + j);
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                p0 = ((FloatVector) q0.and(15).convert(VectorOperators.I2F, 0)).fma(x1, p0);
                p0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).fma(x2, p0);
                p1 = ((FloatVector) q1.and(15).convert(VectorOperators.I2F, 0)).fma(x1, p1);
                p1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x2, p1);
            }
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
        }
        FloatVector fold9 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold9 = fold9.add(fold9.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold9.lane(0) + fold9.lane(1);
        FloatVector fold10 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold10 = fold10.add(fold10.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold10.lane(0) + fold10.lane(1);
    }

    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        if (L == 16) {
            dot4x16(s, off0, off1, off2, off3, cols / 32, prep, out, outOff);
            return;
        }
        if (L == 8) {
            dot4x8(s, off0, off1, off2, off3, cols / 32, prep, out, outOff);
            return;
        }
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int pb = PREP * b;
            FloatVector p0 = FloatVector.fromArray(F, prep, pb), p1 = p0, p2 = p0, p3 = p0;
            for (int j = 0; j < 16; j += L) {
                FloatVector x1 = FloatVector.fromArray(F, prep, pb + L + j), x2 = FloatVector.fromArray(F, prep, pb + L + 16 + j);
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, s, o2 + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, s, o3 + 2 + j, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                p0 = ((FloatVector) q0.and(15).convert(VectorOperators.I2F, 0)).fma(x1, p0);
                p0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).fma(x2, p0);
                p1 = ((FloatVector) q1.and(15).convert(VectorOperators.I2F, 0)).fma(x1, p1);
                p1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x2, p1);
                p2 = ((FloatVector) q2.and(15).convert(VectorOperators.I2F, 0)).fma(x1, p2);
                p2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).fma(x2, p2);
                p3 = ((FloatVector) q3.and(15).convert(VectorOperators.I2F, 0)).fma(x1, p3);
                p3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).fma(x2, p3);
            }
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3) & 0xffff]), a3);
        }
        FloatVector fold11 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold11 = fold11.add(fold11.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold11.lane(0) + fold11.lane(1);
        FloatVector fold12 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold12 = fold12.add(fold12.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold12.lane(0) + fold12.lane(1);
        FloatVector fold13 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold13 = fold13.add(fold13.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold13.lane(0) + fold13.lane(1);
        FloatVector fold14 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold14 = fold14.add(fold14.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold14.lane(0) + fold14.lane(1);
    }

    /** 256-bit vectors, 2 rows; see {@link #dot4x8}. */
    private static void dot2x8(MemorySegment s, long off0, long off1, int blocks, float[] prep, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d;
            int pb = PREP * b;
            FloatVector c = FloatVector.fromArray(F, prep, pb);
            FloatVector x1 = FloatVector.fromArray(F, prep, pb + 8), x2 = FloatVector.fromArray(F, prep, pb + 24);
            FloatVector y1 = FloatVector.fromArray(F, prep, pb + 16), y2 = FloatVector.fromArray(F, prep, pb + 32);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector r0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 10, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector r1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 10, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = ((FloatVector) q0.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).fma(x2, p0);
            p0 = ((FloatVector) r0.and(15).convert(VectorOperators.I2F, 0)).fma(y1, p0);
            p0 = ((FloatVector) r0.convert(VectorOperators.I2F, 0)).fma(y2, p0);
            FloatVector p1 = ((FloatVector) q1.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x2, p1);
            p1 = ((FloatVector) r1.and(15).convert(VectorOperators.I2F, 0)).fma(y1, p1);
            p1 = ((FloatVector) r1.convert(VectorOperators.I2F, 0)).fma(y2, p1);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
        }
        FloatVector fold15 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold15 = fold15.add(fold15.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold15.lane(0) + fold15.lane(1);
        FloatVector fold16 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold16 = fold16.add(fold16.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold16 = fold16.add(fold16.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold16.lane(0) + fold16.lane(1);
    }

    /**
     * 256-bit vectors, 4 rows: the generic loop with its two halves of 8 lanes written out. The
     * nested loop (two turns a block) sent C2 into a loop of profile-predicate traps and recompiles
     * in some runs (KernelBench over one matrix with AVX2: 270 ms a product instead of 0.4).
     */
    private static void dot4x8(MemorySegment s, long off0, long off1, long off2, long off3, int blocks,
                               float[] prep, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int pb = PREP * b;
            FloatVector c = FloatVector.fromArray(F, prep, pb);
            FloatVector x1 = FloatVector.fromArray(F, prep, pb + 8), x2 = FloatVector.fromArray(F, prep, pb + 24);
            FloatVector y1 = FloatVector.fromArray(F, prep, pb + 16), y2 = FloatVector.fromArray(F, prep, pb + 32);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector r0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 10, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector r1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 10, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector r2 = (IntVector) ByteVector.fromMemorySegment(B, s, o2 + 10, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector r3 = (IntVector) ByteVector.fromMemorySegment(B, s, o3 + 10, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = ((FloatVector) q0.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).fma(x2, p0);
            p0 = ((FloatVector) r0.and(15).convert(VectorOperators.I2F, 0)).fma(y1, p0);
            p0 = ((FloatVector) r0.convert(VectorOperators.I2F, 0)).fma(y2, p0);
            FloatVector p1 = ((FloatVector) q1.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x2, p1);
            p1 = ((FloatVector) r1.and(15).convert(VectorOperators.I2F, 0)).fma(y1, p1);
            p1 = ((FloatVector) r1.convert(VectorOperators.I2F, 0)).fma(y2, p1);
            FloatVector p2 = ((FloatVector) q2.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).fma(x2, p2);
            p2 = ((FloatVector) r2.and(15).convert(VectorOperators.I2F, 0)).fma(y1, p2);
            p2 = ((FloatVector) r2.convert(VectorOperators.I2F, 0)).fma(y2, p2);
            FloatVector p3 = ((FloatVector) q3.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).fma(x2, p3);
            p3 = ((FloatVector) r3.and(15).convert(VectorOperators.I2F, 0)).fma(y1, p3);
            p3 = ((FloatVector) r3.convert(VectorOperators.I2F, 0)).fma(y2, p3);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3) & 0xffff]), a3);
        }
        FloatVector fold17 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold17 = fold17.add(fold17.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold17 = fold17.add(fold17.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold17.lane(0) + fold17.lane(1);
        FloatVector fold18 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold18 = fold18.add(fold18.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold18 = fold18.add(fold18.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold18.lane(0) + fold18.lane(1);
        FloatVector fold19 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold19 = fold19.add(fold19.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold19 = fold19.add(fold19.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold19.lane(0) + fold19.lane(1);
        FloatVector fold20 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold20 = fold20.add(fold20.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold20 = fold20.add(fold20.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold20.lane(0) + fold20.lane(1);
    }

    @Override
    public int rowsPerCall() {
        return L == 16 ? 8 : 4;
    }

    @Override
    public void dot8(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5, long off6,
                     long off7, int cols, float[] x, int xOff, float[] prep, float[] out, int outOff) {
        if (L == 16) {
            dot8x16(s, off0, off1, off2, off3, off4, off5, off6, off7, cols / 32, prep, out, outOff);
        } else {
            super.dot8(s, off0, off1, off2, off3, off4, off5, off6, off7, cols, x, xOff, prep, out, outOff);
        }
    }

    /** 512-bit vectors, 8 rows: {@link #dot4x16} with eight rows in flight and the prepared x loaded once for eight. */
    private static void dot8x16(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5,
                                long off6, long off7, int blocks, float[] prep, float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            long o4 = off4 + d, o5 = off5 + d, o6 = off6 + d, o7 = off7 + d;
            int pb = PREP * b;
            FloatVector c = FloatVector.fromArray(F, prep, pb);
            FloatVector x1 = FloatVector.fromArray(F, prep, pb + 16), x2 = FloatVector.fromArray(F, prep, pb + 32);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, s, o2 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, s, o3 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q4 = (IntVector) ByteVector.fromMemorySegment(B, s, o4 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q5 = (IntVector) ByteVector.fromMemorySegment(B, s, o5 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q6 = (IntVector) ByteVector.fromMemorySegment(B, s, o6 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q7 = (IntVector) ByteVector.fromMemorySegment(B, s, o7 + 2, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = ((FloatVector) q0.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p0 = ((FloatVector) q0.convert(VectorOperators.I2F, 0)).fma(x2, p0);
            FloatVector p1 = ((FloatVector) q1.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p1 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).fma(x2, p1);
            FloatVector p2 = ((FloatVector) q2.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p2 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).fma(x2, p2);
            FloatVector p3 = ((FloatVector) q3.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p3 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).fma(x2, p3);
            FloatVector p4 = ((FloatVector) q4.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p4 = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).fma(x2, p4);
            FloatVector p5 = ((FloatVector) q5.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p5 = ((FloatVector) q5.convert(VectorOperators.I2F, 0)).fma(x2, p5);
            FloatVector p6 = ((FloatVector) q6.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p6 = ((FloatVector) q6.convert(VectorOperators.I2F, 0)).fma(x2, p6);
            FloatVector p7 = ((FloatVector) q7.and(15).convert(VectorOperators.I2F, 0)).fma(x1, c);
            p7 = ((FloatVector) q7.convert(VectorOperators.I2F, 0)).fma(x2, p7);
            a0 = p0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            a2 = p2.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o2) & 0xffff]), a2);
            a3 = p3.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o3) & 0xffff]), a3);
            a4 = p4.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o4) & 0xffff]), a4);
            a5 = p5.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o5) & 0xffff]), a5);
            a6 = p6.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o6) & 0xffff]), a6);
            a7 = p7.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o7) & 0xffff]), a7);
        }
        FloatVector fold21 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold21 = fold21.add(fold21.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold21 = fold21.add(fold21.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 0] = fold21.lane(0) + fold21.lane(1);
        FloatVector fold22 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold22 = fold22.add(fold22.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold22 = fold22.add(fold22.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold22.lane(0) + fold22.lane(1);
        FloatVector fold23 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold23 = fold23.add(fold23.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold23 = fold23.add(fold23.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold23.lane(0) + fold23.lane(1);
        FloatVector fold24 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold24 = fold24.add(fold24.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold24 = fold24.add(fold24.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold24.lane(0) + fold24.lane(1);
        FloatVector fold25 = a4.add(a4.rearrange(Simd.FOLD_1));
        fold25 = fold25.add(fold25.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold25 = fold25.add(fold25.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 4] = fold25.lane(0) + fold25.lane(1);
        FloatVector fold26 = a5.add(a5.rearrange(Simd.FOLD_1));
        fold26 = fold26.add(fold26.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold26 = fold26.add(fold26.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 5] = fold26.lane(0) + fold26.lane(1);
        FloatVector fold27 = a6.add(a6.rearrange(Simd.FOLD_1));
        fold27 = fold27.add(fold27.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold27 = fold27.add(fold27.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 6] = fold27.lane(0) + fold27.lane(1);
        FloatVector fold28 = a7.add(a7.rearrange(Simd.FOLD_1));
        fold28 = fold28.add(fold28.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold28 = fold28.add(fold28.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 7] = fold28.lane(0) + fold28.lane(1);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            FloatVector ad = FloatVector.broadcast(F, a * Simd.f16(s, bo));
            int ob = outOff + 32 * b;
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE);
                FloatVector lo = (FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
                FloatVector hi = (FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15).sub((byte) 8)
                        .convertShape(VectorOperators.B2F, F, 0);
                lo.fma(ad, FloatVector.fromArray(F, out, ob + j)).intoArray(out, ob + j);
                hi.fma(ad, FloatVector.fromArray(F, out, ob + 16 + j)).intoArray(out, ob + 16 + j);
            }
        }
    }

    @Override
    public void axpy8(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5, long off6,
                      long off7, int cols, float[] a, int aOff, float[] out, int outOff) {
        if (L == 16) {
            axpy8x16(s, off0, off1, off2, off3, off4, off5, off6, off7, cols / 32, a[aOff], a[aOff + 1], a[aOff + 2],
                    a[aOff + 3], a[aOff + 4], a[aOff + 5], a[aOff + 6], a[aOff + 7], out, outOff);
        } else {
            super.axpy8(s, off0, off1, off2, off3, off4, off5, off6, off7, cols, a, aOff, out, outOff);
        }
    }

    /**
     * 512-bit vectors, eight rows by one block per step: a block's 32 outputs are loaded and stored
     * once for eight rows, and eight rows' bytes are in flight (the neuron cache's rows are scattered
     * in DRAM). Each row's nibbles are decoded as in {@link #axpy}, so the sums are the same.
     */
    private static void axpy8x16(MemorySegment s, long off0, long off1, long off2, long off3, long off4, long off5,
                                 long off6, long off7, int blocks, float a0, float a1, float a2, float a3, float a4,
                                 float a5, float a6, float a7, float[] out, int outOff) {
        for (int b = 0; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            long o4 = off4 + d, o5 = off5 + d, o6 = off6 + d, o7 = off7 + d;
            int ob = outOff + 32 * b;
            FloatVector lo = FloatVector.fromArray(F, out, ob);
            FloatVector hi = FloatVector.fromArray(F, out, ob + 16);
            ByteVector q;
            FloatVector ad;
            ad = FloatVector.broadcast(F, a0 * Simd.f16(s, o0));
            q = ByteVector.fromMemorySegment(B, s, o0 + 2, LE);
            lo = ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, lo);
            hi = ((FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, hi);
            ad = FloatVector.broadcast(F, a1 * Simd.f16(s, o1));
            q = ByteVector.fromMemorySegment(B, s, o1 + 2, LE);
            lo = ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, lo);
            hi = ((FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, hi);
            ad = FloatVector.broadcast(F, a2 * Simd.f16(s, o2));
            q = ByteVector.fromMemorySegment(B, s, o2 + 2, LE);
            lo = ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, lo);
            hi = ((FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, hi);
            ad = FloatVector.broadcast(F, a3 * Simd.f16(s, o3));
            q = ByteVector.fromMemorySegment(B, s, o3 + 2, LE);
            lo = ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, lo);
            hi = ((FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, hi);
            ad = FloatVector.broadcast(F, a4 * Simd.f16(s, o4));
            q = ByteVector.fromMemorySegment(B, s, o4 + 2, LE);
            lo = ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, lo);
            hi = ((FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, hi);
            ad = FloatVector.broadcast(F, a5 * Simd.f16(s, o5));
            q = ByteVector.fromMemorySegment(B, s, o5 + 2, LE);
            lo = ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, lo);
            hi = ((FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, hi);
            ad = FloatVector.broadcast(F, a6 * Simd.f16(s, o6));
            q = ByteVector.fromMemorySegment(B, s, o6 + 2, LE);
            lo = ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, lo);
            hi = ((FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, hi);
            ad = FloatVector.broadcast(F, a7 * Simd.f16(s, o7));
            q = ByteVector.fromMemorySegment(B, s, o7 + 2, LE);
            lo = ((FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, lo);
            hi = ((FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15)
                    .sub((byte) 8).convertShape(VectorOperators.B2F, F, 0)).fma(ad, hi);
            lo.intoArray(out, ob);
            hi.intoArray(out, ob + 16);
        }
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float d = Simd.f16(s, bo);
            int ob = outOff + 32 * b;
            for (int j = 0; j < 16; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE);
                FloatVector lo = (FloatVector) q.and((byte) 15).sub((byte) 8).convertShape(VectorOperators.B2F, F, 0);
                FloatVector hi = (FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15).sub((byte) 8)
                        .convertShape(VectorOperators.B2F, F, 0);
                lo.mul(d).intoArray(out, ob + j);
                hi.mul(d).intoArray(out, ob + 16 + j);
            }
        }
    }
}
