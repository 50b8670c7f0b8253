package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;

/**
 * Q4_K: super-blocks of 256 elements (144 bytes): f16 d, f16 dmin, 12 bytes of packed 6-bit
 * scales and mins for 8 sub-blocks of 32, then 128 bytes of nibbles where each 32 bytes hold two
 * sub-blocks (low nibbles first). An element is {@code d*scale*q - dmin*min}, so a dot product is
 * {@code sum_s (d*scale_s * (q.x)_s - dmin*min_s * sum(x)_s)}: the min term needs only the sum of
 * x over the sub-block, accumulated alongside the products. Loops are flat; see {@link Q8_0Kernel}.
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
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float d = Simd.f16(s, bo);
            float dmin = Simd.f16(s, bo + 2);
            long lo8 = s.get(Simd.LONG_LE, bo + 4);
            int hi4 = s.get(Simd.INT_LE, bo + 12);
            int xb = xOff + 256 * b;
            for (int g = 0; g < 4; g++) {
                long qs = bo + 16 + 32 * g;
                int x0 = xb + 64 * g;
                FloatVector qLo = FloatVector.zero(F), qHi = qLo, xLo = qLo, xHi = qLo;
                for (int j = 0; j < 32; j += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, s, qs + j, LE);
                    FloatVector xl = FloatVector.fromArray(F, x, x0 + j);
                    FloatVector xh = FloatVector.fromArray(F, x, x0 + 32 + j);
                    FloatVector lo = (FloatVector) q.and((byte) 15).convertShape(VectorOperators.B2F, F, 0);
                    FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and((byte) 15)
                            .convertShape(VectorOperators.B2F, F, 0);
                    qLo = lo.fma(xl, qLo);
                    qHi = hi.fma(xh, qHi);
                    xLo = xLo.add(xl);
                    xHi = xHi.add(xh);
                }
                int lo = 2 * g, hi = lo + 1;
                acc = qLo.fma(FloatVector.broadcast(F, d * scale(lo8, hi4, lo)), acc);
                acc = qHi.fma(FloatVector.broadcast(F, d * scale(lo8, hi4, hi)), acc);
                acc = xLo.fma(FloatVector.broadcast(F, -dmin * min(lo8, hi4, lo)), acc);
                acc = xHi.fma(FloatVector.broadcast(F, -dmin * min(lo8, hi4, hi)), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        apply(s, off, cols, a, out, outOff, true);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        apply(s, off, cols, 1f, out, outOff, false);
    }

    /** out = (accumulate ? out : 0) + a * W, with each sub-block's affine map folded into one FMA. */
    private static void apply(MemorySegment s, long off, int cols, float a, float[] out, int outOff, boolean accumulate) {
        int blocks = cols / 256;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float d = a * Simd.f16(s, bo);
            float dmin = a * Simd.f16(s, bo + 2);
            long lo8 = s.get(Simd.LONG_LE, bo + 4);
            int hi4 = s.get(Simd.INT_LE, bo + 12);
            int ob = outOff + 256 * b;
            for (int g = 0; g < 4; g++) {
                long qs = bo + 16 + 32 * g;
                int o0 = ob + 64 * g;
                int lo = 2 * g, hi = lo + 1;
                float sLo = d * scale(lo8, hi4, lo);
                float sHi = d * scale(lo8, hi4, hi);
                float mLo = -dmin * min(lo8, hi4, lo);
                float mHi = -dmin * min(lo8, hi4, hi);
                for (int j = 0; j < 32; j += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, s, qs + j, LE);
                    FloatVector baseLo = FloatVector.broadcast(F, mLo);
                    FloatVector baseHi = FloatVector.broadcast(F, mHi);
                    if (accumulate) {
                        baseLo = baseLo.add(FloatVector.fromArray(F, out, o0 + j));
                        baseHi = baseHi.add(FloatVector.fromArray(F, out, o0 + 32 + j));
                    }
                    FloatVector vLo = (FloatVector) q.and((byte) 15).convertShape(VectorOperators.B2F, F, 0);
                    FloatVector vHi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).and((byte) 15)
                            .convertShape(VectorOperators.B2F, F, 0);
                    vLo.fma(FloatVector.broadcast(F, sLo), baseLo).intoArray(out, o0 + j);
                    vHi.fma(FloatVector.broadcast(F, sHi), baseHi).intoArray(out, o0 + 32 + j);
                }
            }
        }
    }
}
