package io.flashllm.kernels.cpu;

import io.flashllm.kernels.reference.ScalarReference;
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
 * x over the sub-block, accumulated alongside the products.
 */
final class Q4KKernel extends RowKernel {
    private static final int BYTES = 144;

    private static FloatVector low(ByteVector q) {
        return Simd.bytesToFloat(q.and((byte) 15));
    }

    private static FloatVector high(ByteVector q) {
        return Simd.bytesToFloat(q.lanewise(VectorOperators.ASHR, 4).and((byte) 15));
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        int blocks = cols / 256;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float d = Simd.f16(s, bo);
            float dmin = Simd.f16(s, bo + 2);
            int xb = xOff + 256 * b;
            for (int g = 0; g < 4; g++) {
                long qs = bo + 16 + 32 * g;
                int x0 = xb + 64 * g;
                FloatVector qLo = FloatVector.zero(F), qHi = qLo, xLo = qLo, xHi = qLo;
                for (int j = 0; j < 32; j += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, s, qs + j, LE);
                    FloatVector xl = FloatVector.fromArray(F, x, x0 + j);
                    FloatVector xh = FloatVector.fromArray(F, x, x0 + 32 + j);
                    qLo = low(q).fma(xl, qLo);
                    qHi = high(q).fma(xh, qHi);
                    xLo = xLo.add(xl);
                    xHi = xHi.add(xh);
                }
                int lo = 2 * g, hi = lo + 1;
                acc = qLo.fma(FloatVector.broadcast(F, d * ScalarReference.q4kScale(s, bo + 4, lo)), acc);
                acc = qHi.fma(FloatVector.broadcast(F, d * ScalarReference.q4kScale(s, bo + 4, hi)), acc);
                acc = xLo.fma(FloatVector.broadcast(F, -dmin * ScalarReference.q4kMin(s, bo + 4, lo)), acc);
                acc = xHi.fma(FloatVector.broadcast(F, -dmin * ScalarReference.q4kMin(s, bo + 4, hi)), acc);
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
            int ob = outOff + 256 * b;
            for (int g = 0; g < 4; g++) {
                long qs = bo + 16 + 32 * g;
                int o0 = ob + 64 * g;
                int lo = 2 * g, hi = lo + 1;
                float sLo = d * ScalarReference.q4kScale(s, bo + 4, lo);
                float sHi = d * ScalarReference.q4kScale(s, bo + 4, hi);
                float mLo = -dmin * ScalarReference.q4kMin(s, bo + 4, lo);
                float mHi = -dmin * ScalarReference.q4kMin(s, bo + 4, hi);
                for (int j = 0; j < 32; j += L) {
                    ByteVector q = ByteVector.fromMemorySegment(B, s, qs + j, LE);
                    FloatVector baseLo = FloatVector.broadcast(F, mLo);
                    FloatVector baseHi = FloatVector.broadcast(F, mHi);
                    if (accumulate) {
                        baseLo = baseLo.add(FloatVector.fromArray(F, out, o0 + j));
                        baseHi = baseHi.add(FloatVector.fromArray(F, out, o0 + 32 + j));
                    }
                    low(q).fma(FloatVector.broadcast(F, sLo), baseLo).intoArray(out, o0 + j);
                    high(q).fma(FloatVector.broadcast(F, sHi), baseHi).intoArray(out, o0 + 32 + j);
                }
            }
        }
    }
}
