package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;

/**
 * Q4_K: super-blocks of 256 elements (144 bytes): f16 d, f16 dmin, 12 bytes of packed 6-bit
 * scales and mins for 8 sub-blocks of 32, then 128 bytes of nibbles where each 32 bytes hold two
 * sub-blocks (low nibbles first). An element is {@code d*scale*q - dmin*min}, so a dot product is
 * {@code sum_s (d*scale_s * (q.x)_s - dmin*min_s * sum(x)_s)}: the min term needs only the sum of
 * x over the sub-block, accumulated alongside the products.
 *
 * <p>One method call per super-block, returning a float: a whole row in one method exceeds C2's
 * inlining node budget, and then the vector operations it cannot inline get boxed.
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
