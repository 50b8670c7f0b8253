package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * MXFP4 and IQ4_NL with 256-bit vectors (AVX2): a block decoded in registers, where {@link SubBlockKernel}'s
 * loops decoded it into a buffer first and summed x for a min these formats do not have (MXFP4 2.0 GB/cpu-s in
 * L2 against Q4_0's 9.6 at this width). A block's 16 bytes are one 16-byte vector; one byte lookup
 * (pshufb) gives the signed values of elements 0..15 from the low nibbles, another after a 16-bit
 * shift those of 16..31 from the high ones (the lookup wraps its index to 0..15, so neither needs
 * a mask); each half is widened to floats eight lanes at a time, four FMAs against x and one with
 * the block's scale. {@link #dot2} loads x once for both rows; {@code dot4} is two {@code dot2}.
 */
final class NibbleTableKernel256 extends NibbleTableKernel {
    NibbleTableKernel256(NibbleTableKernel format) {
        super(format.header, format);
        if (Simd.L != 8) throw new IllegalStateException("NibbleTableKernel256 needs 8 float lanes, have " + Simd.L);
    }

    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long o = off + (long) bytes * b;
            int xb = xOff + 32 * b;
            ByteVector v = ByteVector.fromMemorySegment(B16, s, o + header, LE);
            ByteVector lo = v.selectFrom(tableBytes);
            ByteVector hi = v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(tableBytes);
            FloatVector p = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(FloatVector.fromArray(F, x, xb));
            p = ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xb + 8), p);
            p = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).fma(FloatVector.fromArray(F, x, xb + 16), p);
            p = ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).fma(FloatVector.fromArray(F, x, xb + 24), p);
            acc = p.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o) & mask]), acc);
        }
        FloatVector fold1 = acc.add(acc.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long d = (long) bytes * b;
            long o0 = off0 + d, o1 = off1 + d;
            int xb = xOff + 32 * b;
            FloatVector x0 = FloatVector.fromArray(F, x, xb), x1 = FloatVector.fromArray(F, x, xb + 8);
            FloatVector x2 = FloatVector.fromArray(F, x, xb + 16), x3 = FloatVector.fromArray(F, x, xb + 24);
            ByteVector v0 = ByteVector.fromMemorySegment(B16, s, o0 + header, LE);
            ByteVector lo0 = v0.selectFrom(tableBytes);
            ByteVector hi0 = v0.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(tableBytes);
            FloatVector p0 = ((FloatVector) lo0.convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p0 = ((FloatVector) lo0.convertShape(VectorOperators.B2F, F, 1)).fma(x1, p0);
            p0 = ((FloatVector) hi0.convertShape(VectorOperators.B2F, F, 0)).fma(x2, p0);
            p0 = ((FloatVector) hi0.convertShape(VectorOperators.B2F, F, 1)).fma(x3, p0);
            acc0 = p0.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o0) & mask]), acc0);
            ByteVector v1 = ByteVector.fromMemorySegment(B16, s, o1 + header, LE);
            ByteVector lo1 = v1.selectFrom(tableBytes);
            ByteVector hi1 = v1.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(tableBytes);
            FloatVector p1 = ((FloatVector) lo1.convertShape(VectorOperators.B2F, F, 0)).mul(x0);
            p1 = ((FloatVector) lo1.convertShape(VectorOperators.B2F, F, 1)).fma(x1, p1);
            p1 = ((FloatVector) hi1.convertShape(VectorOperators.B2F, F, 0)).fma(x2, p1);
            p1 = ((FloatVector) hi1.convertShape(VectorOperators.B2F, F, 1)).fma(x3, p1);
            acc1 = p1.fma(FloatVector.broadcast(F, scales[s.get(SHORT_LE, o1) & mask]), acc1);
        }
        FloatVector fold2 = acc0.add(acc0.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = acc1.add(acc1.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold3.lane(0) + fold3.lane(1);
    }

    /** Four rows as two {@link #dot2} calls (not {@code NibbleTableKernel}'s 512-bit loop nor its buffered fallback). */
    @Override
    public void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int cols, float[] x, int xOff,
                     float[] prep, float[] out, int outOff) {
        dot2(s, off0, off1, cols, x, xOff, prep, out, outOff);
        dot2(s, off2, off3, cols, x, xOff, prep, out, outOff + 2);
    }

    @Override
    public void axpy(MemorySegment s, long off, int cols, float a, float[] out, int outOff) {
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long o = off + (long) bytes * b;
            int ob = outOff + 32 * b;
            FloatVector ad = FloatVector.broadcast(F, a * scales[s.get(SHORT_LE, o) & mask]);
            ByteVector v = ByteVector.fromMemorySegment(B16, s, o + header, LE);
            ByteVector lo = v.selectFrom(tableBytes);
            ByteVector hi = v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(tableBytes);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).fma(ad, FloatVector.fromArray(F, out, ob)).intoArray(out, ob);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).fma(ad, FloatVector.fromArray(F, out, ob + 8)).intoArray(out, ob + 8);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).fma(ad, FloatVector.fromArray(F, out, ob + 16)).intoArray(out, ob + 16);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).fma(ad, FloatVector.fromArray(F, out, ob + 24)).intoArray(out, ob + 24);
        }
    }

    /** {@code axpy} four times: the same FMAs in the same order, as {@code MatVec.axpyRows} requires. */
    @Override
    public void axpy4(MemorySegment s, long off0, long off1, long off2, long off3, int cols,
                      float a0, float a1, float a2, float a3, float[] out, int outOff) {
        axpy(s, off0, cols, a0, out, outOff);
        axpy(s, off1, cols, a1, out, outOff);
        axpy(s, off2, cols, a2, out, outOff);
        axpy(s, off3, cols, a3, out, outOff);
    }

    @Override
    public void dequant(MemorySegment s, long off, int cols, float[] out, int outOff) {
        for (int b = 0, blocks = cols / 32; b < blocks; b++) {
            long o = off + (long) bytes * b;
            int ob = outOff + 32 * b;
            float d = scales[s.get(SHORT_LE, o) & mask];
            ByteVector v = ByteVector.fromMemorySegment(B16, s, o + header, LE);
            ByteVector lo = v.selectFrom(tableBytes);
            ByteVector hi = v.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().selectFrom(tableBytes);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, ob);
            ((FloatVector) lo.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoArray(out, ob + 8);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(out, ob + 16);
            ((FloatVector) hi.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoArray(out, ob + 24);
        }
    }
}
