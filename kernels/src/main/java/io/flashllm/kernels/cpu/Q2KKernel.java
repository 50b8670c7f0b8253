package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q2_K (Q2_K downloads, the smallest K-quant): super-blocks of 84 bytes, sixteen sub-blocks of 16
 * weights, each with a 4-bit scale and a 4-bit min; weight = d·scale·q − dmin·min with q in 0..3.
 * The 2-bit q sit four to a byte: byte l of each 32-byte half holds weight l of its four 32-weight
 * runs, bits 2j..2j+1 for run j.
 */
class Q2KKernel extends SubBlockKernel {
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;

    Q2KKernel() {
        super(256, 84, 16);
    }

    /**
     * 512-bit vectors: decoded in registers, 32 weights (two sub-blocks) per step from 32 bytes of
     * q; the mins' share is each sub-block's min times its sum of x, accumulated apart. Narrower
     * vectors take SubBlockKernel's buffered loop, as {@link Q3KKernel}'s do.
     */
    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        if (L != 16) return super.dot(s, off, cols, x, xOff);
        Buffers buf = buffers();
        float sum = 0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long bo = off + 84L * b;
            scales(s, bo, buf.scale, buf.min);
            sum += blockDot(s, bo, x, xOff + 256 * b, buf.scale, buf.min);
        }
        return sum;
    }

    /** One super-block's product, a method of its own as {@link Q3KKernel}'s. */
    private static float blockDot(MemorySegment s, long bo, float[] x, int xb, float[] scale, float[] min) {
        // apart, so the multiply-adds do not wait on each other's latency
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, min0 = acc0, min1 = acc0;
        for (int half = 0; half < 2; half++) {
            // x86 has no byte shifts: shifted in 16-bit lanes, then masked to each byte's own bits
            // (by a constant each run, as Q3KKernel's)
            ShortVector qs = ByteVector.fromMemorySegment(B32, s, bo + 16 + 32 * half, LE).reinterpretAsShorts();
            for (int run = 0; run < 4; run++) {
                ByteVector q = qs.reinterpretAsBytes().and((byte) 3);
                qs = qs.lanewise(VectorOperators.LSHR, 2);
                int xr = xb + 128 * half + 32 * run, k = 8 * half + 2 * run;
                // the two parts written out, as Q3KKernel's
                acc0 = Q3KKernel.part(q, 0, x, xr).fma(FloatVector.broadcast(F, scale[k]), acc0);
                acc1 = Q3KKernel.part(q, 1, x, xr + 16).fma(FloatVector.broadcast(F, scale[k + 1]), acc1);
                min0 = FloatVector.fromArray(F, x, xr).fma(FloatVector.broadcast(F, min[k]), min0);
                min1 = FloatVector.fromArray(F, x, xr + 16).fma(FloatVector.broadcast(F, min[k + 1]), min1);
            }
        }
        FloatVector fold1 = acc0.add(acc1).add(min0.add(min1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /**
     * The sixteen sub-blocks' d·scale into {@code scale} and −dmin·min into {@code min}, as byte
     * vectors: a scalar loop over sixteen scales and mins costs as much as the block's products.
     */
    private static void scales(MemorySegment s, long block, float[] scale, float[] min) {
        ByteVector packed = ByteVector.fromMemorySegment(B16, s, block, LE);
        ByteVector sc = packed.and((byte) 15);
        ByteVector mn = packed.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes().and((byte) 15);
        FloatVector d = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, block + 80) & 0xffff]);
        FloatVector dmin = FloatVector.broadcast(F, -HALF[s.get(SHORT_LE, block + 82) & 0xffff]);
        // the parts written out and no vector passed on, as Q3KKernel.scales'
        ((FloatVector) sc.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(scale, 0);
        ((FloatVector) mn.convertShape(VectorOperators.B2F, F, 0)).mul(dmin).intoArray(min, 0);
        if (L <= 8) {
            ((FloatVector) sc.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoArray(scale, L);
            ((FloatVector) mn.convertShape(VectorOperators.B2F, F, 1)).mul(dmin).intoArray(min, L);
        }
        if (L == 4) {
            ((FloatVector) sc.convertShape(VectorOperators.B2F, F, 2)).mul(d).intoArray(scale, 8);
            ((FloatVector) mn.convertShape(VectorOperators.B2F, F, 2)).mul(dmin).intoArray(min, 8);
            ((FloatVector) sc.convertShape(VectorOperators.B2F, F, 3)).mul(d).intoArray(scale, 12);
            ((FloatVector) mn.convertShape(VectorOperators.B2F, F, 3)).mul(dmin).intoArray(min, 12);
        }
    }

    @Override
    void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min) {
        scales(s, block, scale, min);
        // shifted by a constant in 16-bit lanes, as blockDot's: variable byte shifts, which x86
        // lacks, left this loop boxed at 256 bits
        for (int half = 0; half < 2; half++) {
            for (int part = 0; part < 2; part++) {
                ShortVector v = ByteVector.fromMemorySegment(B16, s, block + 16 + 32 * half + 16 * part, LE)
                        .reinterpretAsShorts();
                for (int run = 0; run < 4; run++) {
                    v.reinterpretAsBytes().and((byte) 3).intoArray(q, 128 * half + 32 * run + 16 * part);
                    v = v.lanewise(VectorOperators.LSHR, 2);
                }
            }
        }
    }
}
