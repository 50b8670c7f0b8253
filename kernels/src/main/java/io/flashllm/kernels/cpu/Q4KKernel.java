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
 * <p>{@link #dot2} (what {@code MatVec} uses for all rows but a last odd one) takes the sums of x
 * per sub-block from {@link #prepare}, so the min term is eight scalar FMAs per super-block, and
 * works like {@link Q4_0Kernel#dot4}: nibbles zero-extended to ints, masked or shifted, converted,
 * one FMA per vector, one FMA per sub-block with its integer scale broadcast from {@link #SMALL}
 * (a load, no conversion), and d applied once per super-block. The 6-bit scales and mins are
 * unpacked for all eight sub-blocks at once with a few 64-bit operations.
 */
final class Q4KKernel extends RowKernel {
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
        return acc.reduceLanes(VectorOperators.ADD);
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

    /** One float per sub-block of 32: the sum of x over it (the min term of {@link #dot2}). */
    @Override
    public int prepSize(int cols) {
        return cols / 32;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        int subs = cols / 32;
        for (int b = 0; b < subs; b++) {
            int xb = xOff + 32 * b;
            FloatVector sum = FloatVector.fromArray(F, x, xb);
            for (int j = L; j < 32; j += L) sum = sum.add(FloatVector.fromArray(F, x, xb + j));
            prep[b] = sum.reduceLanes(VectorOperators.ADD);
        }
    }

    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        float m0 = 0, m1 = 0;
        int blocks = cols / 256;
        for (int b = 0; b < blocks; b++) {
            long o0 = off0 + (long) BYTES * b, o1 = off1 + (long) BYTES * b;
            int xb = xOff + 256 * b;
            long lo0 = s.get(LONG_LE, o0 + 4), lo1 = s.get(LONG_LE, o1 + 4);
            int hi0 = s.get(INT_LE, o0 + 12), hi1 = s.get(INT_LE, o1 + 12);
            long sc0 = scales8(lo0, hi0), sc1 = scales8(lo1, hi1);
            long mn0 = mins8(lo0, hi0), mn1 = mins8(lo1, hi1);
            FloatVector b0 = FloatVector.zero(F), b1 = b0;
            for (int g = 0; g < 4; g++) {
                int x0 = xb + 64 * g;
                FloatVector pl0 = FloatVector.zero(F), ph0 = pl0, pl1 = pl0, ph1 = pl0;
                for (int j = 0; j < 32; j += L) {
                    FloatVector xl = FloatVector.fromArray(F, x, x0 + j), xh = FloatVector.fromArray(F, x, x0 + 32 + j);
                    IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, s, o0 + 16 + 32 * g + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, s, o1 + 16 + 32 * g + j, LE)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    pl0 = ((FloatVector) q0.and(15).convert(VectorOperators.I2F, 0)).fma(xl, pl0);
                    ph0 = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, ph0);
                    pl1 = ((FloatVector) q1.and(15).convert(VectorOperators.I2F, 0)).fma(xl, pl1);
                    ph1 = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(xh, ph1);
                }
                int sh = 16 * g;
                b0 = pl0.fma(FloatVector.broadcast(F, SMALL[(int) (sc0 >>> sh) & 0xff]), b0);
                b0 = ph0.fma(FloatVector.broadcast(F, SMALL[(int) (sc0 >>> (sh + 8)) & 0xff]), b0);
                b1 = pl1.fma(FloatVector.broadcast(F, SMALL[(int) (sc1 >>> sh) & 0xff]), b1);
                b1 = ph1.fma(FloatVector.broadcast(F, SMALL[(int) (sc1 >>> (sh + 8)) & 0xff]), b1);
            }
            a0 = b0.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0) & 0xffff]), a0);
            a1 = b1.fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1) & 0xffff]), a1);
            int pb = 8 * b;
            float t0 = 0, t1 = 0;
            for (int j = 0; j < 8; j++) {
                t0 += SMALL[(int) (mn0 >>> (8 * j)) & 0xff] * prep[pb + j];
                t1 += SMALL[(int) (mn1 >>> (8 * j)) & 0xff] * prep[pb + j];
            }
            m0 += HALF[s.get(SHORT_LE, o0 + 2) & 0xffff] * t0;
            m1 += HALF[s.get(SHORT_LE, o1 + 2) & 0xffff] * t1;
        }
        out[outOff] = a0.reduceLanes(VectorOperators.ADD) - m0;
        out[outOff + 1] = a1.reduceLanes(VectorOperators.ADD) - m1;
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
        float d = a * Simd.f16(s, bo);
        float dmin = a * Simd.f16(s, bo + 2);
        long lo8 = s.get(LONG_LE, bo + 4);
        int hi4 = s.get(INT_LE, bo + 12);
        for (int g = 0; g < 4; g++) {
            long qs = bo + 16 + 32 * g;
            int o0 = ob + 64 * g;
            int sl = 2 * g, sh = sl + 1;
            FloatVector sLo = FloatVector.broadcast(F, d * scale(lo8, hi4, sl));
            FloatVector sHi = FloatVector.broadcast(F, d * scale(lo8, hi4, sh));
            FloatVector mLo = FloatVector.broadcast(F, -dmin * min(lo8, hi4, sl));
            FloatVector mHi = FloatVector.broadcast(F, -dmin * min(lo8, hi4, sh));
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
