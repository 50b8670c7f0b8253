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
 * Q4_0: blocks of 18 bytes, an f16 scale then 16 bytes whose low nibbles are elements 0..15 and
 * high nibbles 16..31, each stored plus 8. The offset of 8 is removed in the byte lanes, before
 * widening, so the float work is the same as for Q8_0. Loops are flat; see {@link Q8_0Kernel}.
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
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
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
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
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
