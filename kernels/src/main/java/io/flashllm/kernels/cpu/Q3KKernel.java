package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.L;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q3_K (Q3_K_S, Q3_K_M and Q3_K_L downloads): super-blocks of 110 bytes, sixteen sub-blocks of 16
 * weights with a signed 6-bit scale each; weight = d·(scale − 32)·(q − 4), q in 0..7 made of a
 * 2-bit low part laid out as Q2_K's and a high bit: weight l of 32-weight run r (0..7) takes bit r
 * of high-bit byte l. The buffered paths decode it as {@code scale * q + min} with min = −4·scale.
 */
class Q3KKernel extends SubBlockKernel {
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    static final int BYTES = 110;

    Q3KKernel() {
        super(256, BYTES, 16);
    }

    /**
     * 512-bit vectors: decoded in registers, 32 weights (two sub-blocks) per step from 32 bytes of
     * low parts and the 32 high-bit bytes, as signed q − 4 so each sub-block's product is its scale
     * times q·x with no offset term. Narrower vectors take SubBlockKernel's buffered loop: this
     * one's eight-lane conversions from a 32-byte vector were boxed (AVX2: 1.3 ms a 512 × 2048
     * product against 0.36 buffered); with 256-bit vectors {@link Q3KKernel256}'s two-row loop
     * decodes in registers from 16-byte vectors.
     */
    @Override
    public float dot(MemorySegment s, long off, int cols, float[] x, int xOff) {
        if (L != 16) return super.dot(s, off, cols, x, xOff);
        Buffers buf = buffers();
        float sum = 0;
        for (int b = 0, blocks = cols / 256; b < blocks; b++) {
            long bo = off + (long) BYTES * b;
            scales(s, bo, buf.scale, 0);
            sum += blockDot(s, bo, x, xOff + 256 * b, buf.scale);
        }
        return sum;
    }

    /**
     * One super-block's product: a method of its own, as Q4KKernel's, since a whole row in one
     * method exceeds C2's node budget and the vector operations it then cannot inline get boxed.
     */
    private static float blockDot(MemorySegment s, long bo, float[] x, int xb, float[] scale) {
        // two accumulators, so the multiply-adds do not wait on each other's latency
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        // x86 has no byte shifts: shifts run in 16-bit lanes, and each result is masked to bits
        // that came from its own byte. Shifted by a constant at each run (variable counts cost a
        // quarter more): the low parts two bits, the high bits one, run r's high bit at bit 2.
        ShortVector hm = ByteVector.fromMemorySegment(B32, s, bo, LE).reinterpretAsShorts();
        for (int half = 0; half < 2; half++) {
            ShortVector low = ByteVector.fromMemorySegment(B32, s, bo + 32 + 32 * half, LE).reinterpretAsShorts();
            // half 1's bits 4..7 shifted down, not half 0's shifted up: bits 6-7 of a lane's high
            // byte would leave the lane
            ShortVector high = half == 0 ? hm.lanewise(VectorOperators.LSHL, 2) : hm.lanewise(VectorOperators.LSHR, 2);
            for (int run = 0; run < 4; run++) {
                ByteVector q = low.reinterpretAsBytes().and((byte) 3)
                        .or(high.reinterpretAsBytes().and((byte) 4)).sub((byte) 4);
                low = low.lanewise(VectorOperators.LSHR, 2);
                high = high.lanewise(VectorOperators.LSHR, 1);
                int xr = xb + 128 * half + 32 * run, k = 8 * half + 2 * run;
                // the two parts written out: a part number the JIT cannot see as a constant when
                // it inlines convertShape is not intrinsified, and every vector is boxed
                acc0 = part(q, 0, x, xr).fma(FloatVector.broadcast(F, scale[k]), acc0);
                acc1 = part(q, 1, x, xr + 16).fma(FloatVector.broadcast(F, scale[k + 1]), acc1);
            }
        }
        FloatVector fold1 = acc0.add(acc1);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /** Part {@code p} of {@code q} (16 weights) times {@code x[at .. at + 16)}. */
    static FloatVector part(ByteVector q, int p, float[] x, int at) {
        return ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(FloatVector.fromArray(F, x, at));
    }

    @Override
    void decode(MemorySegment s, long block, byte[] q, float[] scale, float[] min) {
        scales(s, block, scale, 0);
        for (int k = 0; k < 16; k++) min[k] = -4 * scale[k];
        // shifted by constants in 16-bit lanes, as blockDot's: variable byte shifts, which x86
        // lacks, left this loop boxed at 256 bits
        for (int half = 0; half < 2; half++) {
            for (int part = 0; part < 2; part++) {
                ShortVector low = ByteVector.fromMemorySegment(B16, s, block + 32 + 32 * half + 16 * part, LE)
                        .reinterpretAsShorts();
                ShortVector hm = ByteVector.fromMemorySegment(B16, s, block + 16 * part, LE).reinterpretAsShorts();
                ShortVector high = half == 0 ? hm.lanewise(VectorOperators.LSHL, 2) : hm.lanewise(VectorOperators.LSHR, 2);
                for (int run = 0; run < 4; run++) {
                    low.reinterpretAsBytes().and((byte) 3).or(high.reinterpretAsBytes().and((byte) 4))
                            .intoArray(q, 128 * half + 32 * run + 16 * part);
                    low = low.lanewise(VectorOperators.LSHR, 2);
                    high = high.lanewise(VectorOperators.LSHR, 1);
                }
            }
        }
    }

    /**
     * The sixteen sub-blocks' d·(scale − 32) into {@code scale[at .. at + 16)}. The 6-bit scales are
     * unpacked a byte each, eight at a time in a long (scale k's low 4 bits are nibble k / 8 of byte k % 8, its
     * top 2 bits bits 2·(k / 4) of byte 8 + k % 4), and converted as one byte vector built in
     * registers: a scalar loop over sixteen scales took as long as the block's products, and the
     * longs stored to memory and loaded as a vector half as long (the load waits for the stores).
     * With 128-bit vectors the scalar loop instead: there the long-to-byte reinterpretation was
     * left to the library's allocating fallback in some JVMs (1 in 30 runs of
     * {@code MixedTypesAllocation} here, 2 of 5 in a CI run; JFR put the allocations in
     * {@code LongVector.reinterpretAsBytes} under this method), and the buffered products that
     * follow at that width take long enough that the scalar loop costs nothing measurable.
     */
    static void scales(MemorySegment s, long block, float[] scale, int at) {
        long low = s.get(LONG_LE, block + 96);
        long top = s.get(INT_LE, block + 104) & 0xffffffffL;
        long top0 = (top & 0x03030303L) | (((top >>> 2) & 0x03030303L) << 32);        // scales 0..7
        long top1 = ((top >>> 4) & 0x03030303L) | (((top >>> 6) & 0x03030303L) << 32); // scales 8..15
        long scales0 = (low & 0x0F0F0F0F0F0F0F0FL) | (top0 << 4);
        long scales8 = ((low >>> 4) & 0x0F0F0F0F0F0F0F0FL) | (top1 << 4);
        if (L == 4) {
            float dd = HALF[s.get(SHORT_LE, block + 108) & 0xffff];
            for (int k = 0; k < 8; k++) {
                scale[at + k] = dd * ((int) (scales0 >>> 8 * k & 0xff) - 32);
                scale[at + 8 + k] = dd * ((int) (scales8 >>> 8 * k & 0xff) - 32);
            }
            return;
        }
        ByteVector sc = LongVector.zero(LongVector.SPECIES_128).withLane(0, scales0).withLane(1, scales8)
                .reinterpretAsBytes().sub((byte) 32);
        FloatVector d = FloatVector.broadcast(F, HALF[s.get(SHORT_LE, block + 108) & 0xffff]);
        // the parts written out (a part number the JIT does not see as a constant leaves the
        // conversion boxed), and no vector passed to another method, which would box it at 256 bits
        ((FloatVector) sc.convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(scale, at);
        if (L == 8) ((FloatVector) sc.convertShape(VectorOperators.B2F, F, 1)).mul(d).intoArray(scale, at + L);
    }
}
