package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q6_K: super-blocks of 256 elements (210 bytes): 128 bytes of low nibbles (ql), 64 bytes of
 * 2-bit high parts (qh), 16 signed 8-bit scales (one per 16 consecutive elements), f16 d. Each
 * half of 128 elements uses 64 bytes of ql and 32 of qh: for l in 0..31, ql[l] low/high nibble
 * give elements l and l+64, ql[l+32] give l+32 and l+96, and qh[l] bits 0-1, 2-3, 4-5, 6-7
 * complete elements l, l+32, l+64, l+96. Values are stored plus 32. A vector of at most 16 lanes
 * never straddles two scales. The 2-bit fields are moved to bits 4-5 with one mask and at most one
 * shift; byte shifts are done as 16-bit shifts (x86 has no byte shift), which is exact because
 * the bits are masked so that none crosses into the neighbouring byte.
 *
 * <p>{@link #dot} (single rows): one method call per half super-block, returning a float; see
 * {@link Q4KKernel} for why. With 512-bit vectors {@link #dot4} is {@link Q6KNibbleFloats#dot4}
 * (four rows, 15.8 against ~11 GB/s for two threads from DRAM); with 256-bit vectors
 * {@link Q6KKernel256}'s {@code dot2}. {@link #dot2} here (at 512 bits: a product's last rows, the
 * neuron cache's pairs of rows) decodes two rows sharing the activation loads, keeps two
 * accumulator chains per row (one chain per row was latency-bound: eight dependent FMAs per 64
 * weights), broadcasts each 8-bit scale straight from {@link #SIGNED} (a
 * load, where a byte-to-float conversion and a broadcast cost three vector-port uops per 16
 * weights), and applies d once per super-block.
 */
class Q6KKernel extends RowKernel {
    static final int BYTES = 210;

    /** The int8 scale at {@code at} as a float: a table load instead of an int-to-float conversion. */
    private static float scale(MemorySegment s, long at) {
        return SIGNED[s.get(ValueLayout.JAVA_BYTE, at) & 0xff];
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        int blocks = cols / 256;
        float sum = 0;
        for (int b = 0; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            int xb = xOff + 256 * b;
            float d = Simd.f16(s, bo + 208);
            sum += d * (halfDot(s, bo, 0, x, xb) + halfDot(s, bo, 1, x, xb + 128));
        }
        return sum;
    }

    /** Sum of scale * q * x over half {@code h} of the super-block at {@code bo}, without d. */
    private static float halfDot(MemorySegment s, long bo, int h, float[] x, int xh) {
        long ql = bo + 64 * h;
        long qh = bo + 128 + 32 * h;
        long sc = bo + 192 + 8 * h;
        FloatVector acc = FloatVector.zero(F);
        for (int l = 0; l < 32; l += L) {
            ByteVector a = ByteVector.fromMemorySegment(B, s, ql + l, LE);
            ByteVector c = ByteVector.fromMemorySegment(B, s, ql + 32 + l, LE);
            ByteVector hb = ByteVector.fromMemorySegment(B, s, qh + l, LE);
            ByteVector hb2 = hb.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes();
            FloatVector q1 = (FloatVector) a.and((byte) 15).or(hb.and((byte) 3).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes())
                    .sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
            FloatVector q2 = (FloatVector) c.and((byte) 15).or(hb.and((byte) 12).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes())
                    .sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
            FloatVector q3 = (FloatVector) a.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).or(hb.and((byte) 48)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
            FloatVector q4 = (FloatVector) c.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).or(hb2.and((byte) 48)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
            int is = l / 16;
            acc = q1.mul(FloatVector.fromArray(F, x, xh + l)).fma(FloatVector.broadcast(F, scale(s, sc + is)), acc);
            acc = q2.mul(FloatVector.fromArray(F, x, xh + 32 + l)).fma(FloatVector.broadcast(F, scale(s, sc + 2 + is)), acc);
            acc = q3.mul(FloatVector.fromArray(F, x, xh + 64 + l)).fma(FloatVector.broadcast(F, scale(s, sc + 4 + is)), acc);
            acc = q4.mul(FloatVector.fromArray(F, x, xh + 96 + l)).fma(FloatVector.broadcast(F, scale(s, sc + 6 + is)), acc);
        }
        FloatVector fold1 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /** Every byte, as a signed value, as a float: {@code SIGNED[b & 0xff] == (float) b}. */
    static final float[] SIGNED = new float[256];

    static {
        for (int i = 0; i < SIGNED.length; i++) SIGNED[i] = (byte) i;
    }

    /** Vectors per half super-block row segment of 32 positions. */
    private static final int PER_HALF = 32 / L;

    /**
     * 512-bit vectors: {@link #dot4} (all rows of a product but up to three) is
     * {@link Q6KNibbleFloats}'s, which needs x prepared; the rest go through the byte kernel of
     * {@link #dot2}.
     */
    private static final boolean NIBBLE_FLOATS = L == 16;

    @Override
    public int prepSize(int cols) {
        return NIBBLE_FLOATS ? Q6KNibbleFloats.prepSize(cols) : 0;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        if (NIBBLE_FLOATS) Q6KNibbleFloats.prepare(x, xOff, cols, prep);
    }

    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        if (NIBBLE_FLOATS) {
            Q6KNibbleFloats.dot4(s, off0, off1, off2, off3, cols / 256, prep, out, outOff);
        } else {
            super.dot4(s, off0, off1, off2, off3, cols, x, xOff, prep, out, outOff);
        }
    }

    /**
     * Two rows: per super-block, one loop over (half, position vector), its partial sums scaled by
     * d after it. One flat loop over the whole row (session 16: 6.9-7.1 against 6.5-6.7 GB/cpu-s in
     * L2, fewer bounds checks) reset the partial sums in a branch when a super-block ended, and C2
     * boxed them at that merge in some compiles at 256 bits ({@code MixedTypesAllocation} at 256 bits:
     * 4 of 11 runs; 0 of 8 this way), for about 5% of KernelBench's rate (9.7-9.8 against
     * 10.1-10.4 GB/s, two threads from DRAM, {@code -XX:UseAVX=2}). Folding d into each scale
     * instead cost 17% (a scalar product and a register broadcast per scale).
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
        int n = 2 * PER_HALF;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long o0 = off0 + (long) BYTES * b, o1 = off1 + (long) BYTES * b;
            FloatVector u0 = FloatVector.zero(F), v0 = FloatVector.zero(F), u1 = FloatVector.zero(F), v1 = FloatVector.zero(F);
            for (int r = 0; r < n; r++) {
                int h = r / PER_HALF, l = (r % PER_HALF) * L, is = l / 16;
                int xh = xOff + 256 * b + 128 * h;
                FloatVector x1 = FloatVector.fromArray(F, x, xh + l), x2 = FloatVector.fromArray(F, x, xh + 32 + l);
                FloatVector x3 = FloatVector.fromArray(F, x, xh + 64 + l), x4 = FloatVector.fromArray(F, x, xh + 96 + l);
                long ql0 = o0 + 64 * h + l, qh0 = o0 + 128 + 32 * h + l, sc0 = o0 + 192 + 8 * h + is;
                long ql1 = o1 + 64 * h + l, qh1 = o1 + 128 + 32 * h + l, sc1 = o1 + 192 + 8 * h + is;
                ByteVector a = ByteVector.fromMemorySegment(B, s, ql0, LE);
                ByteVector c = ByteVector.fromMemorySegment(B, s, ql0 + 32, LE);
                ByteVector hb = ByteVector.fromMemorySegment(B, s, qh0, LE);
                ByteVector hb2 = hb.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes();
                FloatVector q1 = (FloatVector) a.and((byte) 15).or(hb.and((byte) 3).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes())
                        .sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
                FloatVector q2 = (FloatVector) c.and((byte) 15).or(hb.and((byte) 12).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes())
                        .sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
                FloatVector q3 = (FloatVector) a.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(hb.and((byte) 48)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
                FloatVector q4 = (FloatVector) c.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(hb2.and((byte) 48)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
                u0 = q1.mul(x1).fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc0) & 0xff]), u0);
                v0 = q2.mul(x2).fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc0 + 2) & 0xff]), v0);
                u0 = q3.mul(x3).fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc0 + 4) & 0xff]), u0);
                v0 = q4.mul(x4).fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc0 + 6) & 0xff]), v0);
                a = ByteVector.fromMemorySegment(B, s, ql1, LE);
                c = ByteVector.fromMemorySegment(B, s, ql1 + 32, LE);
                hb = ByteVector.fromMemorySegment(B, s, qh1, LE);
                hb2 = hb.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes();
                q1 = (FloatVector) a.and((byte) 15).or(hb.and((byte) 3).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes())
                        .sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
                q2 = (FloatVector) c.and((byte) 15).or(hb.and((byte) 12).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes())
                        .sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
                q3 = (FloatVector) a.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(hb.and((byte) 48)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
                q4 = (FloatVector) c.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                        .and((byte) 15).or(hb2.and((byte) 48)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
                u1 = q1.mul(x1).fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc1) & 0xff]), u1);
                v1 = q2.mul(x2).fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc1 + 2) & 0xff]), v1);
                u1 = q3.mul(x3).fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc1 + 4) & 0xff]), u1);
                v1 = q4.mul(x4).fma(FloatVector.broadcast(F, SIGNED[s.get(ValueLayout.JAVA_BYTE, sc1 + 6) & 0xff]), v1);
            }
            a0 = u0.add(v0).fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o0 + 208) & 0xffff]), a0);
            a1 = u1.add(v1).fma(FloatVector.broadcast(F, HALF[s.get(SHORT_LE, o1 + 208) & 0xffff]), a1);
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
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        apply(s, off, cols, a, out, outOff, true);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        apply(s, off, cols, 1f, out, outOff, false);
    }

    /**
     * out = (accumulate ? out : 0) + a * W, in one flat loop over (super-block, half, position
     * vector): with a loop per half and per position C2 kept bounds checks inside them, and a row
     * was added at 2.8 GB/s in L1 (6x slower than Q8_0's). (No vector is carried across its steps,
     * so the flat loop has none of {@link #dot2}'s boxing risk.)
     */
    private static void apply(MemorySegment s, long off, int cols, float a, float[] out, int outOff, boolean accumulate) {
        int n = 2 * PER_HALF, steps = cols / 256 * n;
        for (int k = 0; k < steps; k++) {
            int b = k / n, r = k % n, h = r / PER_HALF, l = (r % PER_HALF) * L, is = l / 16;
            long o = off + (long) BYTES * b;
            int oh = outOff + 256 * b + 128 * h + l;
            float d = a * HALF[s.get(SHORT_LE, o + 208) & 0xffff];
            long ql = o + 64 * h + l, qh = o + 128 + 32 * h + l, sc = o + 192 + 8 * h + is;
            ByteVector av = ByteVector.fromMemorySegment(B, s, ql, LE);
            ByteVector cv = ByteVector.fromMemorySegment(B, s, ql + 32, LE);
            ByteVector hb = ByteVector.fromMemorySegment(B, s, qh, LE);
            ByteVector hb2 = hb.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2).reinterpretAsBytes();
            FloatVector q1 = (FloatVector) av.and((byte) 15).or(hb.and((byte) 3).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes())
                    .sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
            FloatVector q2 = (FloatVector) cv.and((byte) 15).or(hb.and((byte) 12).reinterpretAsShorts().lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes())
                    .sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
            FloatVector q3 = (FloatVector) av.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).or(hb.and((byte) 48)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
            FloatVector q4 = (FloatVector) cv.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                    .and((byte) 15).or(hb2.and((byte) 48)).sub((byte) 32).convertShape(VectorOperators.B2F, F, 0);
            FloatVector s1 = FloatVector.broadcast(F, d * SIGNED[s.get(ValueLayout.JAVA_BYTE, sc) & 0xff]);
            FloatVector s2 = FloatVector.broadcast(F, d * SIGNED[s.get(ValueLayout.JAVA_BYTE, sc + 2) & 0xff]);
            FloatVector s3 = FloatVector.broadcast(F, d * SIGNED[s.get(ValueLayout.JAVA_BYTE, sc + 4) & 0xff]);
            FloatVector s4 = FloatVector.broadcast(F, d * SIGNED[s.get(ValueLayout.JAVA_BYTE, sc + 6) & 0xff]);
            if (accumulate) {
                q1.fma(s1, FloatVector.fromArray(F, out, oh)).intoArray(out, oh);
                q2.fma(s2, FloatVector.fromArray(F, out, oh + 32)).intoArray(out, oh + 32);
                q3.fma(s3, FloatVector.fromArray(F, out, oh + 64)).intoArray(out, oh + 64);
                q4.fma(s4, FloatVector.fromArray(F, out, oh + 96)).intoArray(out, oh + 96);
            } else {
                q1.mul(s1).intoArray(out, oh);
                q2.mul(s2).intoArray(out, oh + 32);
                q3.mul(s3).intoArray(out, oh + 64);
                q4.mul(s4).intoArray(out, oh + 96);
            }
        }
    }
}
