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
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * IQ4_XS: super-blocks of 136 bytes, eight sub-blocks of 32 weights each laid out as an IQ4_NL
 * block without its scale (16 bytes of nibbles indexing the IQ4 grid), under one f16 d and eight
 * 6-bit scales (low nibbles in bytes 4..7, top bits in the 16-bit word at 2); weight = d·(scale −
 * 32)·grid[q]. 4.25 bits per weight against Q4_K's 4.5, and no min.
 *
 * <p>With 512-bit vectors a sub-block is {@link NibbleTableKernel}'s block: its 16 bytes
 * zero-extended to int lanes, each nibble a permute into the grid's float bits. With 256-bit
 * vectors the byte lookups of {@link NibbleTableKernel256} widened eight lanes at a time. At both
 * widths {@link #dot2} decodes two rows against each activation load, and {@code dot4} is two of
 * it: a four-row 512-bit loop ran 15-25% faster but was compiled with boxed vectors in about one
 * JVM start in six ({@code MixedTypesAllocation}: 245 MB allocated a thousand products, in 6 of 38
 * runs), which the two-row loop was in none of 18. At 128 bits, and for axpy
 * and dequant at every width, {@link SubBlockKernel}'s buffered loops over {@link #decode}.
 */
final class Iq4XsKernel extends SubBlockKernel {
    private static final int BYTES = 136;
    private static final ByteVector GRID_BYTES = NibbleTableKernel.gridBytes(NibbleTableKernel.IQ4_VALUES);
    private static final IntVector GRID = L == 16 ? NibbleTableKernel.gridBits(NibbleTableKernel.IQ4_VALUES) : null;

    Iq4XsKernel() {
        super(256, BYTES);
    }

    /** Nothing to prepare: no min, so no sums of x. */
    @Override
    public int prepSize(int cols) {
        return 0;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        if (L == 4) return super.dot(s, off, cols, x, xOff);
        float[] scale = buffers().scale;
        float sum = 0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            scales(s, bo, scale, 0);
            sum += L == 16 ? blockDot16(s, bo, x, xOff + 256 * b, scale) : blockDot8(s, bo, x, xOff + 256 * b, scale);
        }
        return sum;
    }

    /**
     * 512 bits, one super-block: two sub-blocks per step into two accumulators. A method per
     * super-block, as {@link Q3KKernel}'s, so that C2 inlines every vector operation in it.
     */
    private static float blockDot16(MemorySegment s, long bo, float[] x, int xb, float[] scale) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int k = 0; k < 8; k += 2) {
            long q = bo + 8 + 16 * k;
            int xk = xb + 32 * k;
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, q, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, q + 16, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector p0 = q0.selectFrom(GRID).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xk));
            p0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(GRID).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xk + 16), p0);
            FloatVector p1 = q1.selectFrom(GRID).reinterpretAsFloats().mul(FloatVector.fromArray(F, x, xk + 32));
            p1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(GRID).reinterpretAsFloats()
                    .fma(FloatVector.fromArray(F, x, xk + 48), p1);
            a0 = p0.fma(FloatVector.broadcast(F, scale[k]), a0);
            a1 = p1.fma(FloatVector.broadcast(F, scale[k + 1]), a1);
        }
        FloatVector fold1 = a0.add(a1);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /**
     * Two rows (and {@code dot4} as two of these; a neuron's gate and up rows in the neuron cache):
     * {@link #dot2x16} with 512-bit vectors, {@link #dot2x8} with 256. Each sub-block's activations
     * are loaded once for both rows, the rows' scales unpacked into a per-thread buffer once per
     * super-block, the accumulators kept across the row.
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        if (L == 16) {
            dot2x16(s, off0, off1, cols, x, xOff, buffers().scale4, out, outOff);
        } else if (L == 8) {
            dot2x8(s, off0, off1, cols, x, xOff, buffers().scale4, out, outOff);
        } else {
            super.dot2(s, off0, off1, cols, x, xOff, prep, out, outOff);
        }
    }

    private static void dot2x16(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] sc,
                                float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d;
            scales(s, o0, sc, 0);
            scales(s, o1, sc, 8);
            for (int k = 0; k < 8; k++) {
                int xk = xOff + 256 * b + 32 * k;
                long q = 8 + 16 * k;
                FloatVector x0 = FloatVector.fromArray(F, x, xk), x1 = FloatVector.fromArray(F, x, xk + 16);
                IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + q, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + q, LE)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                FloatVector p0 = q0.selectFrom(GRID).reinterpretAsFloats().mul(x0);
                p0 = q0.lanewise(VectorOperators.LSHR, 4).selectFrom(GRID).reinterpretAsFloats().fma(x1, p0);
                FloatVector p1 = q1.selectFrom(GRID).reinterpretAsFloats().mul(x0);
                p1 = q1.lanewise(VectorOperators.LSHR, 4).selectFrom(GRID).reinterpretAsFloats().fma(x1, p1);
                a0 = p0.fma(FloatVector.broadcast(F, sc[k]), a0);
                a1 = p1.fma(FloatVector.broadcast(F, sc[8 + k]), a1);
            }
        }
        FloatVector fold2 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold3.lane(0) + fold3.lane(1);
    }

    /** 256 bits, two rows: {@link #dot2}. */
    private static void dot2x8(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] sc,
                               float[] out, int outOff) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d;
            scales(s, o0, sc, 0);
            scales(s, o1, sc, 8);
            for (int k = 0; k < 8; k++) {
                int xk = xOff + 256 * b + 32 * k;
                long q = 8 + 16 * k;
                FloatVector x0 = FloatVector.fromArray(F, x, xk), x1 = FloatVector.fromArray(F, x, xk + 8);
                FloatVector x2 = FloatVector.fromArray(F, x, xk + 16), x3 = FloatVector.fromArray(F, x, xk + 24);
                ByteVector v0 = ByteVector.fromMemorySegment(B16, s, o0 + q, LE);
                ByteVector lo0 = v0.selectFrom(GRID_BYTES);
                ByteVector hi0 = v0.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(GRID_BYTES);
                FloatVector p0 = ((FloatVector) lo0.convertShape(VectorOperators.B2F, F, 0)).mul(x0);
                p0 = ((FloatVector) lo0.convertShape(VectorOperators.B2F, F, 1)).fma(x1, p0);
                p0 = ((FloatVector) hi0.convertShape(VectorOperators.B2F, F, 0)).fma(x2, p0);
                p0 = ((FloatVector) hi0.convertShape(VectorOperators.B2F, F, 1)).fma(x3, p0);
                acc0 = p0.fma(FloatVector.broadcast(F, sc[k]), acc0);
                ByteVector v1 = ByteVector.fromMemorySegment(B16, s, o1 + q, LE);
                ByteVector lo1 = v1.selectFrom(GRID_BYTES);
                ByteVector hi1 = v1.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(GRID_BYTES);
                FloatVector p1 = ((FloatVector) lo1.convertShape(VectorOperators.B2F, F, 0)).mul(x0);
                p1 = ((FloatVector) lo1.convertShape(VectorOperators.B2F, F, 1)).fma(x1, p1);
                p1 = ((FloatVector) hi1.convertShape(VectorOperators.B2F, F, 0)).fma(x2, p1);
                p1 = ((FloatVector) hi1.convertShape(VectorOperators.B2F, F, 1)).fma(x3, p1);
                acc1 = p1.fma(FloatVector.broadcast(F, sc[8 + k]), acc1);
            }
        }
        FloatVector fold4 = acc0.add(acc0.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold4.lane(0) + fold4.lane(1);
        FloatVector fold5 = acc1.add(acc1.rearrange(Simd.FOLD_1));
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold5 = fold5.add(fold5.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold5.lane(0) + fold5.lane(1);
    }

    /** 256 bits, one super-block: a sub-block's two byte lookups widened in four parts. */
    private static float blockDot8(MemorySegment s, long bo, float[] x, int xb, float[] scale) {
        FloatVector acc = FloatVector.zero(F);
        for (int k = 0; k < 8; k++) {
            int xk = xb + 32 * k;
            ByteVector v = ByteVector.fromMemorySegment(B16, s, bo + 8 + 16 * k, LE);
            ByteVector lo = v.selectFrom(GRID_BYTES);
            ByteVector hi = v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(GRID_BYTES);
            FloatVector p = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xk));
            p = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xk + 8), p);
            p = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xk + 16), p);
            p = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xk + 24), p);
            acc = p.fma(FloatVector.broadcast(F, scale[k]), acc);
        }
        FloatVector fold6 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold6 = fold6.add(fold6.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold6.lane(0) + fold6.lane(1);
    }

    /** Signed grid values, the eight scales, mins of zero: weight i is {@code scale[i / 32] * q[i]}. */
    @Override
    void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min) {
        scales(s, block, scale, 0);
        for (int k = 0; k < 8; k++) {
            min[k] = 0f;
            // the lookup wraps each index to 0..15: the byte selects by its low nibble, and after the
            // 16-bit shift by its high one
            ByteVector v = ByteVector.fromMemorySegment(B16, s, block + 8 + 16 * k, LE);
            v.selectFrom(GRID_BYTES).intoArray(q, 32 * k);
            v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(GRID_BYTES)
                    .intoArray(q, 32 * k + 16);
        }
    }

    /**
     * The eight sub-blocks' d·(scale − 32) into {@code scale[at .. at + 8)}, from
     * {@link #packedScales}: eight scalar products, no vectors in the kernels' scale path.
     */
    private static void scales(MemorySegment s, long block, float[] scale, int at) {
        long sc = packedScales(s, block);
        float d = HALF[s.get(SHORT_LE, block) & 0xffff];
        for (int k = 0; k < 8; k++) scale[at + k] = d * (((int) (sc >>> (8 * k)) & 0xff) - 32);
    }

    /**
     * The eight 6-bit scales (stored plus 32), sub-block k's in byte k: nibble k of bytes 4..7
     * spread a byte apart, bits 2k..2k+1 of the word at 2 moved to bits 4..5 of byte k, by shifts
     * and masks rather than a bit deposit, which Zen 1 and 2 cores run in microcode.
     */
    private static long packedScales(MemorySegment s, long block) {
        long low = s.get(INT_LE, block + 4) & 0xffffffffL;
        low = (low | (low << 16)) & 0x0000FFFF0000FFFFL;
        low = (low | (low << 8)) & 0x00FF00FF00FF00FFL;
        low = (low | (low << 4)) & 0x0F0F0F0F0F0F0F0FL;
        long top = s.get(SHORT_LE, block + 2) & 0xffffL;
        top = (top | (top << 24)) & 0x000000FF000000FFL;
        top = (top | (top << 12)) & 0x000F000F000F000FL;
        top = (top | (top << 6)) & 0x0303030303030303L;
        return low | (top << 4);
    }
}
