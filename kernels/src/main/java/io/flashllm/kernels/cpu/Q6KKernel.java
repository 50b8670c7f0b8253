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
 * Q6_K: super-blocks of 256 elements (210 bytes): 128 bytes of low nibbles (ql), 64 bytes of
 * 2-bit high parts (qh), 16 signed 8-bit scales (one per 16 elements), f16 d. Each half of 128
 * elements uses 64 bytes of ql and 32 of qh: for l in 0..31, ql[l] low/high nibble give elements
 * l and l+64, ql[l+32] give l+32 and l+96, and qh[l] bits 0-1, 2-3, 4-5, 6-7 complete elements
 * l, l+32, l+64, l+96. Values are stored plus 32. A vector of at most 16 lanes never straddles two
 * scales, so each vector's products get one scale.
 */
final class Q6KKernel extends RowKernel {
    private static final int BYTES = 210;

    private static FloatVector quant(ByteVector low4, ByteVector qh, int shift) {
        ByteVector high2 = shift == 0 ? qh.and((byte) 3) : qh.lanewise(VectorOperators.ASHR, shift).and((byte) 3);
        return Simd.bytesToFloat(low4.or(high2.lanewise(VectorOperators.LSHL, 4)).sub((byte) 32));
    }

    private static ByteVector lowNibble(ByteVector v) {
        return v.and((byte) 15);
    }

    private static ByteVector highNibble(ByteVector v) {
        return v.lanewise(VectorOperators.ASHR, 4).and((byte) 15);
    }

    private static int scale(MemorySegment s, long at) {
        return s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at);
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        int blocks = cols / 256;
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float d = Simd.f16(s, bo + 208);
            FloatVector blk = FloatVector.zero(F);
            for (int h = 0; h < 2; h++) {
                long ql = bo + 64 * h;
                long qh = bo + 128 + 32 * h;
                long sc = bo + 192 + 8 * h;
                int xh = xOff + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    ByteVector a = ByteVector.fromMemorySegment(B, s, ql + l, LE);
                    ByteVector c = ByteVector.fromMemorySegment(B, s, ql + 32 + l, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B, s, qh + l, LE);
                    int is = l / 16;
                    FloatVector p1 = quant(lowNibble(a), hb, 0).mul(FloatVector.fromArray(F, x, xh + l));
                    FloatVector p2 = quant(lowNibble(c), hb, 2).mul(FloatVector.fromArray(F, x, xh + 32 + l));
                    FloatVector p3 = quant(highNibble(a), hb, 4).mul(FloatVector.fromArray(F, x, xh + 64 + l));
                    FloatVector p4 = quant(highNibble(c), hb, 6).mul(FloatVector.fromArray(F, x, xh + 96 + l));
                    blk = p1.fma(FloatVector.broadcast(F, scale(s, sc + is)), blk);
                    blk = p2.fma(FloatVector.broadcast(F, scale(s, sc + 2 + is)), blk);
                    blk = p3.fma(FloatVector.broadcast(F, scale(s, sc + 4 + is)), blk);
                    blk = p4.fma(FloatVector.broadcast(F, scale(s, sc + 6 + is)), blk);
                }
            }
            acc = blk.fma(FloatVector.broadcast(F, d), acc);
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

    private static void put(FloatVector q, float scale, float[] out, int at, boolean accumulate) {
        if (accumulate) {
            q.fma(FloatVector.broadcast(F, scale), FloatVector.fromArray(F, out, at)).intoArray(out, at);
        } else {
            q.mul(scale).intoArray(out, at);
        }
    }

    private static void apply(MemorySegment s, long off, int cols, float a, float[] out, int outOff, boolean accumulate) {
        int blocks = cols / 256;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            float d = a * Simd.f16(s, bo + 208);
            for (int h = 0; h < 2; h++) {
                long ql = bo + 64 * h;
                long qh = bo + 128 + 32 * h;
                long sc = bo + 192 + 8 * h;
                int oh = outOff + 256 * b + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    ByteVector av = ByteVector.fromMemorySegment(B, s, ql + l, LE);
                    ByteVector cv = ByteVector.fromMemorySegment(B, s, ql + 32 + l, LE);
                    ByteVector hb = ByteVector.fromMemorySegment(B, s, qh + l, LE);
                    int is = l / 16;
                    put(quant(lowNibble(av), hb, 0), d * scale(s, sc + is), out, oh + l, accumulate);
                    put(quant(lowNibble(cv), hb, 2), d * scale(s, sc + 2 + is), out, oh + 32 + l, accumulate);
                    put(quant(highNibble(av), hb, 4), d * scale(s, sc + 4 + is), out, oh + 64 + l, accumulate);
                    put(quant(highNibble(cv), hb, 6), d * scale(s, sc + 6 + is), out, oh + 96 + l, accumulate);
                }
            }
        }
    }
}
