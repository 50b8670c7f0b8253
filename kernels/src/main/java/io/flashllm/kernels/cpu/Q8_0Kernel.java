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
 * Q8_0: blocks of 34 bytes, an f16 scale then 32 signed bytes. Each block's products are summed
 * unscaled, then scaled once by the block's d; two blocks per step give two independent chains.
 */
final class Q8_0Kernel extends RowKernel {
    private static final int BYTES = 34;

    private static FloatVector blockDot(MemorySegment s, long bo, float[] x, int xb) {
        FloatVector acc = FloatVector.zero(F);
        for (int j = 0; j < 32; j += L) {
            FloatVector q = Simd.bytesToFloat(ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE));
            acc = q.fma(FloatVector.fromArray(F, x, xb + j), acc);
        }
        return acc;
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        int blocks = cols / 32;
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        int b = 0;
        for (; b + 1 < blocks; b += 2) {
            long bo = off + (long) BYTES * b;
            int xb = xOff + 32 * b;
            a0 = blockDot(s, bo, x, xb).fma(FloatVector.broadcast(F, Simd.f16(s, bo)), a0);
            a1 = blockDot(s, bo + BYTES, x, xb + 32).fma(FloatVector.broadcast(F, Simd.f16(s, bo + BYTES)), a1);
        }
        if (b < blocks) {
            long bo = off + (long) BYTES * b;
            a0 = blockDot(s, bo, x, xOff + 32 * b).fma(FloatVector.broadcast(F, Simd.f16(s, bo)), a0);
        }
        return a0.add(a1).reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        int blocks = cols / 32;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float ad = a * Simd.f16(s, bo);
            int ob = outOff + 32 * b;
            for (int j = 0; j < 32; j += L) {
                FloatVector q = Simd.bytesToFloat(ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE));
                q.fma(FloatVector.broadcast(F, ad), FloatVector.fromArray(F, out, ob + j)).intoArray(out, ob + j);
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
            for (int j = 0; j < 32; j += L) {
                Simd.bytesToFloat(ByteVector.fromMemorySegment(B, s, bo + 2 + j, LE)).mul(d).intoArray(out, ob + j);
            }
        }
    }
}
