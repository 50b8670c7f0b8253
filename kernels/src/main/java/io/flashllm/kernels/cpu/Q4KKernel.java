package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q4_K: super-blocks of 256 elements (144 bytes): f16 d, f16 dmin, 12 bytes of packed 6-bit
 * scales and mins for 8 sub-blocks of 32, then 128 bytes of nibbles where each 32 bytes hold two
 * sub-blocks (low nibbles first). An element is {@code d*scale*q - dmin*min}, so a dot product is
 * {@code sum_s (d*scale_s * (q.x)_s - dmin*min_s * sum(x)_s)}: the min term needs only the sum of
 * x over the sub-block, accumulated alongside the products.
 *
 * <p>{@link #dot} (single rows): one method call per super-block, returning a float: a whole row
 * in one method exceeds C2's inlining node budget, and then the vector operations it cannot
 * inline get boxed.
 *
 * <p>The multi-row products ({@link #dot2}, {@link #dot4}) are written for 512-bit vectors; at 256
 * bits {@link Q4KKernel256} overrides {@link #dot2} (and {@link #dot4} runs it twice), at 128 bits
 * {@link Q4KNarrowKernel} takes over. Both multi-row forms take the sums of x per sub-block from
 * {@link #prepare} for the min term.
 */
class Q4KKernel extends RowKernel {
    private static final int BYTES = 144;

    /** Scale of sub-block j from the packed bytes 0..7 ({@code lo}) and 8..11 ({@code hi}) of the 12-byte field. */
    static int scale(long lo, int hi, int j) {
        if (j < 4) return (int) (lo >>> (8 * j)) & 63;
        return ((hi >>> (8 * (j - 4))) & 15) | (((int) (lo >>> (8 * (j - 4) + 6)) & 3) << 4);
    }

    /** Min of sub-block j; see {@link #scale}. */
    static int min(long lo, int hi, int j) {
        if (j < 4) return (int) (lo >>> (8 * (j + 4))) & 63;
        return ((hi >>> (8 * (j - 4) + 4)) & 15) | (((int) (lo >>> (8 * j + 6)) & 3) << 4);
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        int blocks = cols / 256;
        float sum = 0;
        for (int b = 0; b < blocks; b++) sum += blockDot(s, off + (long) BYTES * b, x, xOff + 256 * b);
        return sum;
    }

    private static float blockDot(MemorySegment s, long bo, float[] x, int xb) {
        float d = Simd.f16(s, bo);
        float dmin = Simd.f16(s, bo + 2);
        long lo8 = s.get(LONG_LE, bo + 4);
        int hi4 = s.get(INT_LE, bo + 12);
        FloatVector acc = FloatVector.zero(F);
        for (int g = 0; g < 4; g++) {
            long qs = bo + 16 + 32 * g;
            int x0 = xb + 64 * g;
            FloatVector qLo = FloatVector.zero(F), qHi = qLo, xLo = qLo, xHi = qLo;
            for (int j = 0; j < 32; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, s, qs + j, LE);
                FloatVector xl = FloatVector.fromArray(F, x, x0 + j);
                FloatVector xh = FloatVector.fromArray(F, x, x0 + 32 + j);
                FloatVector lo = (FloatVector) q.and((byte) 15).convertShape(VectorOperators.B2F, F, 0);
                FloatVector hi = (FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4)
                        .reinterpretAsBytes().and((byte) 15).convertShape(VectorOperators.B2F, F, 0);
                qLo = lo.fma(xl, qLo);
                qHi = hi.fma(xh, qHi);
                xLo = xLo.add(xl);
                xHi = xHi.add(xh);
            }
            int sl = 2 * g, sh = sl + 1;
            acc = qLo.fma(FloatVector.broadcast(F, d * scale(lo8, hi4, sl)), acc);
            acc = qHi.fma(FloatVector.broadcast(F, d * scale(lo8, hi4, sh)), acc);
            acc = xLo.fma(FloatVector.broadcast(F, -dmin * min(lo8, hi4, sl)), acc);
            acc = xHi.fma(FloatVector.broadcast(F, -dmin * min(lo8, hi4, sh)), acc);
        }
        FloatVector fold1 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /** The integers 0..255 as floats: an 8-bit scale becomes a float by a load, and a broadcast of it is one load uop. */
    static final float[] SMALL = new float[256];

    static {
        for (int i = 0; i < SMALL.length; i++) SMALL[i] = i;
    }

    /** Eight 6-bit scales (byte j = sub-block j) from bytes 0..7 ({@code lo}) and 8..11 ({@code hi}) of the packed field. */
    static long scales8(long lo, int hi) {
        long h = hi & 0xffffffffL;
        return (lo & 0x3f3f3f3fL) | (((h & 0x0f0f0f0fL) | (((lo >>> 6) & 0x03030303L) << 4)) << 32);
    }

    /** Eight 6-bit mins, packed as in {@link #scales8}. */
    static long mins8(long lo, int hi) {
        long h = hi & 0xffffffffL;
        return ((lo >>> 32) & 0x3f3f3f3fL) | ((((h >>> 4) & 0x0f0f0f0fL) | (((lo >>> 38) & 0x03030303L) << 4)) << 32);
    }

    /**
     * The sums of x over each sub-block of 32 (the min term of {@link #dot2}): with 512-bit vectors
     * 16 floats per super-block, zeros then the eight sums negated (see {@link #dot2x16}); else one
     * float per sub-block.
     */
    @Override
    public int prepSize(int cols) {
        return L == 16 ? cols / 16 : cols / 32;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        int subs = cols / 32;
        for (int b = 0; b < subs; b++) {
            float v = Simd.sum32(x, xOff + 32 * b);
            if (L == 16) {
                prep[16 * (b / 8) + b % 8] = 0f;
                prep[16 * (b / 8) + 8 + b % 8] = -v;
            } else {
                prep[b] = v;
            }
        }
    }

    /*
     * 512-bit unpacking of the 12-byte scale field, in int lanes 0..15 (lanes 0..7 the scales of
     * sub-blocks 0..7, lanes 8..15 their mins), q being the field's bytes:
     *   sub-block j < 4: q[j] & 63 (min: q[j + 4] & 63);
     *   j >= 4: (q[j + 4] & 15) | (q[j - 4] >> 6) << 4 (min: (q[j + 4] >> 4) | (q[j] >> 6) << 4).
     * As lanes: ((A >>> SHIFT_A) & MASK_A) | ((C >>> 2) & MASK_C), A and C the bytes picked by IDX_A, IDX_C.
     */
    private static final int[] IDX_A = {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11};
    private static final int[] SHIFT_A = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4};
    private static final int[] MASK_A = {63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15};
    private static final int[] IDX_C = {0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7};
    private static final int[] MASK_C = {0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30, 0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30};
    /** Lanes 0..7 zero (scales), lanes 8..15 one (mins): where {@link #dot2x16} takes dmin instead of 0. */
    private static final float[] MIN_LANES = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    // One shuffle per sub-block broadcasting its scale lane; separate fields so that C2 sees constants.
    private static final VectorShuffle<Float> SH0 = bcast(0), SH1 = bcast(1), SH2 = bcast(2), SH3 = bcast(3),
            SH4 = bcast(4), SH5 = bcast(5), SH6 = bcast(6), SH7 = bcast(7);

    private static VectorShuffle<Float> bcast(int lane) {
        return L == 16 ? VectorShuffle.fromOp(F, i -> lane) : VectorShuffle.iota(F, 0, 1, true);
    }

    /**
     * 512-bit vectors, two rows: the scales and mins are unpacked in vector lanes (about ten
     * operations per super-block instead of some sixty scalar ones, which left the loop
     * front-end bound), each sub-block's scale is broadcast by a permute, and the min term is one
     * FMA of the mins lanes with the sub-block sums of x from {@link #prepare} (laid out 16 per
     * super-block: zeros under the scales, -sum(x) under the mins).
     */
    private static void dot2x16(MemorySegment s, long off0, long off1, int blocks, float[] x, int xOff, float[] prep,
                                float[] out, int outOff) {
        IntVector idxA = IntVector.fromArray(I, IDX_A, 0), shiftA = IntVector.fromArray(I, SHIFT_A, 0);
        IntVector maskA = IntVector.fromArray(I, MASK_A, 0), idxC = IntVector.fromArray(I, IDX_C, 0);
        IntVector maskC = IntVector.fromArray(I, MASK_C, 0);
        FloatVector minLanes = FloatVector.fromArray(F, MIN_LANES, 0);
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int b = 0; b < blocks; b++) {
            long o0 = off0 + (long) BYTES * b, o1 = off1 + (long) BYTES * b;
            int xb = xOff + 256 * b;
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 4, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 4, LE)
                    .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector sm0 = (FloatVector) idxA.selectFrom(q0).lanewise(VectorOperators.LSHR, shiftA).and(maskA)
                    .or(idxC.selectFrom(q0).lanewise(VectorOperators.LSHR, 2).and(maskC)).convert(VectorOperators.I2F, 0);
            FloatVector sm1 = (FloatVector) idxA.selectFrom(q1).lanewise(VectorOperators.LSHR, shiftA).and(maskA)
                    .or(idxC.selectFrom(q1).lanewise(VectorOperators.LSHR, 2).and(maskC)).convert(VectorOperators.I2F, 0);
            FloatVector xs = FloatVector.fromArray(F, prep, 16 * b);
            // min term: lanes 8..15 of sm * -sum(x) * dmin (lanes 0..7 of xs are zero)
            a0 = sm0.mul(xs).fma(minLanes.mul(HALF[s.get(SHORT_LE, o0 + 2) & 0xffff]), a0);
            a1 = sm1.mul(xs).fma(minLanes.mul(HALF[s.get(SHORT_LE, o1 + 2) & 0xffff]), a1);
            FloatVector b0 = FloatVector.zero(F), b1 = b0;
            for (int g = 0; g < 4; g++) {
                int x0 = xb + 64 * g;
                FloatVector xl0 = FloatVector.fromArray(F, x, x0), xl1 = FloatVector.fromArray(F, x, x0 + 16);
                FloatVector xh0 = FloatVector.fromArray(F, x, x0 + 32), xh1 = FloatVector.fromArray(F, x, x0 + 48);
                long qs0 = o0 + 16 + 32 * g, qs1 = o1 + 16 + 32 * g;
                IntVector u = (IntVector) ByteVector.fromMemorySegment(B, s, qs0, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                IntVector v = (IntVector) ByteVector.fromMemorySegment(B, s, qs0 + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                FloatVector pl0 = ((FloatVector) u.and(15).convert(VectorOperators.I2F, 0)).mul(xl0);
                pl0 = ((FloatVector) v.and(15).convert(VectorOperators.I2F, 0)).fma(xl1, pl0);
                FloatVector ph0 = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(xh0);
                ph0 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh1, ph0);
                u = (IntVector) ByteVector.fromMemorySegment(B, s, qs1, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                v = (IntVector) ByteVector.fromMemorySegment(B, s, qs1 + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                FloatVector pl1 = ((FloatVector) u.and(15).convert(VectorOperators.I2F, 0)).mul(xl0);
                pl1 = ((FloatVector) v.and(15).convert(VectorOperators.I2F, 0)).fma(xl1, pl1);
                FloatVector ph1 = ((FloatVector) u.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(xh0);
                ph1 = ((FloatVector) v.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh1, ph1);
                VectorShuffle<Float> shl = g == 0 ? SH0 : g == 1 ? SH2 : g == 2 ? SH4 : SH6;
                VectorShuffle<Float> shh = g == 0 ? SH1 : g == 1 ? SH3 : g == 2 ? SH5 : SH7;
                b0 = pl0.fma(sm0.rearrange(shl), b0);
                b0 = ph0.fma(sm0.rearrange(shh), b0);
                b1 = pl1.fma(sm1.rearrange(shl), b1);
                b1 = ph1.fma(sm1.rearrange(shh), b1);
            }
            a0 = b0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = b1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
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

    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        if (L == 16) {
            // Two rows at a time: the four-row form written out no longer compiled once its sums were
            // written out too (C1: "out of virtual registers", so C2 never got it; kernels/README.md).
            dot2x16(s, off0, off1, cols / 256, x, xOff, prep, out, outOff);
            dot2x16(s, off2, off3, cols / 256, x, xOff, prep, out, outOff + 2);
        } else {
            super.dot4(s, off0, off1, off2, off3, cols, x, xOff, prep, out, outOff);
        }
    }

    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        if (L == 16) {
            dot2x16(s, off0, off1, cols / 256, x, xOff, prep, out, outOff);
        } else {
            super.dot2(s, off0, off1, cols, x, xOff, prep, out, outOff); // not reached: Q4KKernel256 overrides dot2
        }
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        int blocks = cols / 256;
        for (int b = 0; b < blocks; b++) applyBlock(s, off + (long) BYTES * b, a, out, outOff + 256 * b, true);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        int blocks = cols / 256;
        for (int b = 0; b < blocks; b++) applyBlock(s, off + (long) BYTES * b, 1f, out, outOff + 256 * b, false);
    }

    /** out = (accumulate ? out : 0) + a * W for one super-block; each sub-block's affine map is one FMA. */
    private static void applyBlock(MemorySegment s, long bo, float a, float[] out, int ob, boolean accumulate) {
        float d = a * HALF[s.get(SHORT_LE, bo) & 0xffff];
        float dmin = -a * HALF[s.get(SHORT_LE, bo + 2) & 0xffff];
        long lo8 = s.get(LONG_LE, bo + 4);
        int hi4 = s.get(INT_LE, bo + 12);
        long sc = scales8(lo8, hi4), mn = mins8(lo8, hi4);
        for (int g = 0; g < 4; g++) {
            long qs = bo + 16 + 32 * g;
            int o0 = ob + 64 * g;
            int sh = 16 * g;
            FloatVector sLo = FloatVector.broadcast(F, d * SMALL[(int) (sc >>> sh) & 0xff]);
            FloatVector sHi = FloatVector.broadcast(F, d * SMALL[(int) (sc >>> (sh + 8)) & 0xff]);
            FloatVector mLo = FloatVector.broadcast(F, dmin * SMALL[(int) (mn >>> sh) & 0xff]);
            FloatVector mHi = FloatVector.broadcast(F, dmin * SMALL[(int) (mn >>> (sh + 8)) & 0xff]);
            for (int j = 0; j < 32; j += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, s, qs + j, LE);
                FloatVector vLo = (FloatVector) q.and((byte) 15).convertShape(VectorOperators.B2F, F, 0);
                FloatVector vHi = (FloatVector) q.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4)
                        .reinterpretAsBytes().and((byte) 15).convertShape(VectorOperators.B2F, F, 0);
                FloatVector baseLo = accumulate ? mLo.add(FloatVector.fromArray(F, out, o0 + j)) : mLo;
                FloatVector baseHi = accumulate ? mHi.add(FloatVector.fromArray(F, out, o0 + 32 + j)) : mHi;
                vLo.fma(sLo, baseLo).intoArray(out, o0 + j);
                vHi.fma(sHi, baseHi).intoArray(out, o0 + 32 + j);
            }
        }
    }
}
