package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q4_K with 256-bit vectors (AVX2): {@link Q4KKernel} with {@link #dot2}, which every row of a
 * product but an odd last one goes through, written for eight lanes and sixteen registers.
 * {@link Q4KKernel}'s width-independent dot2 ran at 4.3 GB/s on one core in L2 (the 512-bit kernel:
 * 17) and 9.5 on two cores from DRAM, for three reasons found in C2's code: it did not inline
 * {@code scales8} there, and every vector register was spilled around each call; the small inner
 * loops per pair of sub-blocks were each set up for range-check elimination on every super-block;
 * and the activation vectors shared by both rows outgrew the sixteen registers with everything
 * else, so a third of a step's vectors went through the stack. Here one flat loop steps both rows
 * with each step's two scales read inline, and the second row reads its own copy of x from
 * {@code prep}: two rows' loads of the same x would be merged by the JIT into values held across
 * both rows. One
 * row per loop needed no copy and ran at 8.7 GB/s in L2 but 7 from DRAM (one stream per core); two
 * rows: 7.5 and 12.3 (KernelBench, {@code -XX:UseAVX=2}). Four rows per loop are too large for C1,
 * which then leaves the method to the interpreter's boxed vectors. Each row keeps one sum for the
 * whole row, d folded into the scales: a sum reset to zero in a branch at each super-block's end was
 * boxed by some C2 compiles (about one JVM in four ran 2.5-3x slower; kernels/README.md).
 */
final class Q4KKernel256 extends Q4KKernel {

    Q4KKernel256() {
        if (Simd.L != 8) throw new IllegalStateException("Q4KKernel256 needs 8 float lanes, have " + Simd.L);
    }

    /** The sums of x per sub-block of 32 (as {@link Q4KKernel}), then a copy of x for {@link #dot2}'s second row. */
    @Override
    public int prepSize(int cols) {
        return cols / 32 + cols;
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        super.prepare(x, xOff, cols, prep);
        System.arraycopy(x, xOff, prep, cols / 32, cols);
    }

    /**
     * Two rows, 64 weights (a pair of sub-blocks: the low and the high nibbles of 32 bytes) per
     * step; each sub-block's products scaled by d times its 6-bit scale, into one sum per row; the
     * mins' share (-dmin * min * sum(x), the sums from {@link #prepare}) taken when a super-block
     * ends, in scalars.
     */
    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        float m0 = 0, m1 = 0;
        int steps = cols / 64, yOff = cols / 32;
        for (int k = 0; k < steps; k++) {
            int b = k >>> 2, g = k & 3;
            long o0 = off0 + 144L * b;
            int xb0 = xOff + 64 * k;
            long q0 = o0 + 16 + 32 * g;
            IntVector u00 = (IntVector) ByteVector.fromMemorySegment(B, s, q0, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u10 = (IntVector) ByteVector.fromMemorySegment(B, s, q0 + 8, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u20 = (IntVector) ByteVector.fromMemorySegment(B, s, q0 + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u30 = (IntVector) ByteVector.fromMemorySegment(B, s, q0 + 24, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector pl0 = ((FloatVector) u00.and(15).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb0));
            pl0 = ((FloatVector) u10.and(15).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 8), pl0);
            pl0 = ((FloatVector) u20.and(15).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 16), pl0);
            pl0 = ((FloatVector) u30.and(15).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 24), pl0);
            FloatVector ph0 = ((FloatVector) u00.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb0 + 32));
            ph0 = ((FloatVector) u10.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 40), ph0);
            ph0 = ((FloatVector) u20.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 48), ph0);
            ph0 = ((FloatVector) u30.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 56), ph0);
            // Just this step's two 6-bit scales (sub-blocks 2g and 2g + 1): bytes 2g and 2g + 1 of the
            // twelve (g < 2), else the low nibbles of bytes 2g + 4, 2g + 5 under the top two bits of
            // bytes 2g - 4, 2g - 3. One or two 16-bit loads instead of unpacking all eight every step.
            int two0 = s.get(SHORT_LE, o0 + (g < 2 ? 4 : 8) + 2 * g) & 0xffff;
            int sc0 = g < 2 ? two0 & 0x3f3f : (two0 & 0x0f0f) | ((s.get(SHORT_LE, o0 + 2 * g) >>> 2) & 0x3030);
            float d0 = HALF[s.get(SHORT_LE, o0) & 0xffff];
            acc0 = pl0.fma(FloatVector.broadcast(F, d0 * SMALL[sc0 & 0xff]), acc0);
            acc0 = ph0.fma(FloatVector.broadcast(F, d0 * SMALL[sc0 >>> 8]), acc0);
            long o1 = off1 + 144L * b;
            int xb1 = yOff + 64 * k;
            long q1 = o1 + 16 + 32 * g;
            IntVector u01 = (IntVector) ByteVector.fromMemorySegment(B, s, q1, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u11 = (IntVector) ByteVector.fromMemorySegment(B, s, q1 + 8, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u21 = (IntVector) ByteVector.fromMemorySegment(B, s, q1 + 16, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector u31 = (IntVector) ByteVector.fromMemorySegment(B, s, q1 + 24, LE).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            FloatVector pl1 = ((FloatVector) u01.and(15).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, prep, xb1));
            pl1 = ((FloatVector) u11.and(15).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 8), pl1);
            pl1 = ((FloatVector) u21.and(15).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 16), pl1);
            pl1 = ((FloatVector) u31.and(15).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 24), pl1);
            FloatVector ph1 = ((FloatVector) u01.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, prep, xb1 + 32));
            ph1 = ((FloatVector) u11.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 40), ph1);
            ph1 = ((FloatVector) u21.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 48), ph1);
            ph1 = ((FloatVector) u31.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 56), ph1);
            int two1 = s.get(SHORT_LE, o1 + (g < 2 ? 4 : 8) + 2 * g) & 0xffff;
            int sc1 = g < 2 ? two1 & 0x3f3f : (two1 & 0x0f0f) | ((s.get(SHORT_LE, o1 + 2 * g) >>> 2) & 0x3030);
            float d1 = HALF[s.get(SHORT_LE, o1) & 0xffff];
            acc1 = pl1.fma(FloatVector.broadcast(F, d1 * SMALL[sc1 & 0xff]), acc1);
            acc1 = ph1.fma(FloatVector.broadcast(F, d1 * SMALL[sc1 >>> 8]), acc1);
            if (g == 3) {
                long lo0 = s.get(LONG_LE, o0 + 4), hi0 = s.get(INT_LE, o0 + 12) & 0xffffffffL;
                long mn0 = ((lo0 >>> 32) & 0x3f3f3f3fL) | ((((hi0 >>> 4) & 0x0f0f0f0fL) | (((lo0 >>> 38) & 0x03030303L) << 4)) << 32);
                float t0 = SMALL[(int) mn0 & 0xff] * prep[8 * b] + SMALL[(int) (mn0 >>> 8) & 0xff] * prep[8 * b + 1]
                        + SMALL[(int) (mn0 >>> 16) & 0xff] * prep[8 * b + 2] + SMALL[(int) (mn0 >>> 24) & 0xff] * prep[8 * b + 3]
                        + SMALL[(int) (mn0 >>> 32) & 0xff] * prep[8 * b + 4] + SMALL[(int) (mn0 >>> 40) & 0xff] * prep[8 * b + 5]
                        + SMALL[(int) (mn0 >>> 48) & 0xff] * prep[8 * b + 6] + SMALL[(int) (mn0 >>> 56) & 0xff] * prep[8 * b + 7];
                m0 += HALF[s.get(SHORT_LE, o0 + 2) & 0xffff] * t0;
                long lo1 = s.get(LONG_LE, o1 + 4), hi1 = s.get(INT_LE, o1 + 12) & 0xffffffffL;
                long mn1 = ((lo1 >>> 32) & 0x3f3f3f3fL) | ((((hi1 >>> 4) & 0x0f0f0f0fL) | (((lo1 >>> 38) & 0x03030303L) << 4)) << 32);
                float t1 = SMALL[(int) mn1 & 0xff] * prep[8 * b] + SMALL[(int) (mn1 >>> 8) & 0xff] * prep[8 * b + 1]
                        + SMALL[(int) (mn1 >>> 16) & 0xff] * prep[8 * b + 2] + SMALL[(int) (mn1 >>> 24) & 0xff] * prep[8 * b + 3]
                        + SMALL[(int) (mn1 >>> 32) & 0xff] * prep[8 * b + 4] + SMALL[(int) (mn1 >>> 40) & 0xff] * prep[8 * b + 5]
                        + SMALL[(int) (mn1 >>> 48) & 0xff] * prep[8 * b + 6] + SMALL[(int) (mn1 >>> 56) & 0xff] * prep[8 * b + 7];
                m1 += HALF[s.get(SHORT_LE, o1 + 2) & 0xffff] * t1;
            }
        }
        FloatVector fold1 = acc0.add(acc0.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = (fold1.lane(0) + fold1.lane(1)) - m0;
        FloatVector fold2 = acc1.add(acc1.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = (fold2.lane(0) + fold2.lane(1)) - m1;
    }
}
