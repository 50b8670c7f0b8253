package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q6_K's four-row product at 512 bits, with the 6-bit values turned into floats by bit operations
 * instead of byte arithmetic, widening and converting.
 *
 * <p>A 6-bit q placed in mantissa bits 17..22 of the pattern of 1.0f is the float 1 + q/64. The
 * low nibbles (ql) of a half super-block are loaded as sixteen ints, lane i holding ql bytes
 * 4i..4i+3, so nibble k of a lane sits in bits 4k..4k+3. The 2-bit high parts (qh) are loaded as
 * ints too, shifted so that the pair completing nibble k sits in bits 4k..4k+1 of every lane (lanes
 * 8..15 hold ql bytes 32..63, whose pairs are two bits further up in qh), then rotated left by 4:
 * pair k lands just above nibble k, in bits 4k+4..4k+5 mod 32 (nibble 7's wraps to bits 0..1). Per
 * nibble one blend (bits 4k..4k+3 from ql, the rest from the rotated qh), one rotation by 17 - 4k
 * (mod 32) and one AND-OR ({@code vpternlogd}) give 16 floats: with the FMA, four vector
 * operations per 16 weights, against about nine in {@link Q6KKernel#dot2}'s byte decode.
 *
 * <p>{@link #prepare} stores x permuted into the order the nibbles come out of the ints, times 64,
 * so that f·x' = (64 + q)·x = (q - 32)·x + 96·x, and starts each accumulator with -96·Σx over each
 * group of 16 it covers: what accumulates is Σ (q - 32)·x. An accumulator of the low (even k) or
 * high (odd k) nibbles of a half covers four scale groups of 16 elements, four lanes each, so one
 * permute of the row's sixteen scales (times d) per accumulator applies them.
 *
 * <p>Element of lane i, nibble k, half h: 128h + 32·(i / 8) + 4·(i % 8) + k / 2 + 64·(k % 2).
 */
final class Q6KNibbleFloats {
    private static final int BYTES = 210;
    /** Floats of {@link #prepare} per super-block: x' (256) and four accumulator starts (64). */
    static final int PREP_PER_BLOCK = 320;
    private static final int START = 256;

    /** qh lanes 0..7 (half 0) or 8..15 (half 1) into both halves of a vector. */
    private static final VectorShuffle<Integer> HALF0 = VectorShuffle.fromOp(I, i -> i & 7);
    private static final VectorShuffle<Integer> HALF1 = VectorShuffle.fromOp(I, i -> 8 + (i & 7));
    /** Scales of a half's low (LOW) or high (HIGH) nibbles: lane j takes scale group 8h + 4·high + j / 4. */
    private static final VectorShuffle<Float> LOW0 = groups(0), HIGH0 = groups(4), LOW1 = groups(8), HIGH1 = groups(12);

    private static VectorShuffle<Float> groups(int first) {
        return VectorShuffle.fromOp(F, j -> first + j / 4);
    }

    private static final int[] PAIR_SHIFT = {0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2};

    private Q6KNibbleFloats() {}

    static int prepSize(int cols) {
        return cols / 256 * PREP_PER_BLOCK;
    }

    static void prepare(float[] x, int xOff, int cols, float[] prep) {
        for (int b = 0; b < cols / 256; b++) {
            int xb = xOff + 256 * b;
            int p = PREP_PER_BLOCK * b;
            for (int h = 0; h < 2; h++) {
                for (int k = 0; k < 8; k++) {
                    for (int i = 0; i < 16; i++) {
                        int e = 128 * h + 32 * (i >> 3) + 4 * (i & 7) + (k >> 1) + 64 * (k & 1);
                        prep[p + 128 * h + 16 * k + i] = 64f * x[xb + e];
                    }
                }
            }
            Arrays.fill(prep, p + START, p + PREP_PER_BLOCK, 0f);
            for (int g = 0; g < 16; g++) {
                float sum = 0;
                for (int t = 0; t < 16; t++) sum += x[xb + 16 * g + t];
                // group g = 8h + 4·high + j: accumulator (h, high), lane 4j
                prep[p + START + 16 * (g >> 2) + 4 * (g & 3)] = -96f * sum;
            }
        }
    }

    /**
     * Four rows, so that four rows stream from DRAM at once (two rows per call ran at 12.2-13.6
     * against 15.8-15.9 GB/s). One step per half super-block with an inner loop over nibble pairs,
     * which treats every nibble alike (the rotations above) and keeps the compiled body small:
     * two rows with both halves written out already passed C2's node budget and ran boxed. The
     * scales are unpacked in each half's step, twice per super-block: unpacked once in an outer
     * loop over super-blocks, the kernel ran faster in L2 (9.6-9.7 against 9.3-9.4 GB/cpu-s) but
     * slower from DRAM (14.6-15.0 against 15.4-15.8 GB/s), which is where decode reads.
     */
    static void dot4(MemorySegment s, long off0, long off1, long off2, long off3, int blocks, float[] prep,
                     float[] out, int outOff) {
        IntVector pairShift = IntVector.fromArray(I, PAIR_SHIFT, 0);
        IntVector window = IntVector.broadcast(I, 0x3F << 17), one = IntVector.broadcast(I, 0x3F800000);
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int step = 0; step < 2 * blocks; step++) {
            int b = step >> 1, h = step & 1;
            long d = (long) BYTES * b;
            long o0 = off0 + d, o1 = off1 + d, o2 = off2 + d, o3 = off3 + d;
            int px = PREP_PER_BLOCK * b + 128 * h, ps = PREP_PER_BLOCK * b + START + 32 * h;
            VectorShuffle<Integer> qhHalf = h == 0 ? HALF0 : HALF1;
            VectorShuffle<Float> lows = h == 0 ? LOW0 : LOW1, highs = h == 0 ? HIGH0 : HIGH1;
            IntVector l0 = IntVector.fromMemorySegment(I, s, o0 + 64 * h, LE);
            IntVector q0 = IntVector.fromMemorySegment(I, s, o0 + 128, LE).rearrange(qhHalf).lanewise(VectorOperators.LSHR, pairShift)
                    .lanewise(VectorOperators.ROL, 4);
            IntVector l1 = IntVector.fromMemorySegment(I, s, o1 + 64 * h, LE);
            IntVector q1 = IntVector.fromMemorySegment(I, s, o1 + 128, LE).rearrange(qhHalf).lanewise(VectorOperators.LSHR, pairShift)
                    .lanewise(VectorOperators.ROL, 4);
            IntVector l2 = IntVector.fromMemorySegment(I, s, o2 + 64 * h, LE);
            IntVector q2 = IntVector.fromMemorySegment(I, s, o2 + 128, LE).rearrange(qhHalf).lanewise(VectorOperators.LSHR, pairShift)
                    .lanewise(VectorOperators.ROL, 4);
            IntVector l3 = IntVector.fromMemorySegment(I, s, o3 + 64 * h, LE);
            IntVector q3 = IntVector.fromMemorySegment(I, s, o3 + 128, LE).rearrange(qhHalf).lanewise(VectorOperators.LSHR, pairShift)
                    .lanewise(VectorOperators.ROL, 4);
            FloatVector lo0 = FloatVector.fromArray(F, prep, ps), lo1 = lo0, lo2 = lo0, lo3 = lo0;
            FloatVector hi0 = FloatVector.fromArray(F, prep, ps + 16), hi1 = hi0, hi2 = hi0, hi3 = hi0;
            for (int k = 0; k < 8; k += 2) {
                IntVector ml = IntVector.broadcast(I, 0xF << (4 * k)), mh = IntVector.broadcast(I, 0xF << (4 * k + 4));
                int rl = (17 - 4 * k) & 31, rh = (13 - 4 * k) & 31;
                FloatVector xl = FloatVector.fromArray(F, prep, px + 16 * k), xh = FloatVector.fromArray(F, prep, px + 16 * k + 16);
                lo0 = q0.bitwiseBlend(l0, ml).lanewise(VectorOperators.ROL, rl).and(window).or(one).reinterpretAsFloats().fma(xl, lo0);
                hi0 = q0.bitwiseBlend(l0, mh).lanewise(VectorOperators.ROL, rh).and(window).or(one).reinterpretAsFloats().fma(xh, hi0);
                lo1 = q1.bitwiseBlend(l1, ml).lanewise(VectorOperators.ROL, rl).and(window).or(one).reinterpretAsFloats().fma(xl, lo1);
                hi1 = q1.bitwiseBlend(l1, mh).lanewise(VectorOperators.ROL, rh).and(window).or(one).reinterpretAsFloats().fma(xh, hi1);
                lo2 = q2.bitwiseBlend(l2, ml).lanewise(VectorOperators.ROL, rl).and(window).or(one).reinterpretAsFloats().fma(xl, lo2);
                hi2 = q2.bitwiseBlend(l2, mh).lanewise(VectorOperators.ROL, rh).and(window).or(one).reinterpretAsFloats().fma(xh, hi2);
                lo3 = q3.bitwiseBlend(l3, ml).lanewise(VectorOperators.ROL, rl).and(window).or(one).reinterpretAsFloats().fma(xl, lo3);
                hi3 = q3.bitwiseBlend(l3, mh).lanewise(VectorOperators.ROL, rh).and(window).or(one).reinterpretAsFloats().fma(xh, hi3);
            }
            FloatVector sd0 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 192, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(HALF[s.get(SHORT_LE, o0 + 208) & 0xffff]);
            a0 = hi0.fma(sd0.rearrange(highs), lo0.fma(sd0.rearrange(lows), a0));
            FloatVector sd1 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 192, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(HALF[s.get(SHORT_LE, o1 + 208) & 0xffff]);
            a1 = hi1.fma(sd1.rearrange(highs), lo1.fma(sd1.rearrange(lows), a1));
            FloatVector sd2 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o2 + 192, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(HALF[s.get(SHORT_LE, o2 + 208) & 0xffff]);
            a2 = hi2.fma(sd2.rearrange(highs), lo2.fma(sd2.rearrange(lows), a2));
            FloatVector sd3 = ((FloatVector) ByteVector.fromMemorySegment(B, s, o3 + 192, LE).convertShape(VectorOperators.B2F, F, 0))
                    .mul(HALF[s.get(SHORT_LE, o3 + 208) & 0xffff]);
            a3 = hi3.fma(sd3.rearrange(highs), lo3.fma(sd3.rearrange(lows), a3));
        }
        FloatVector fold1 = a0.add(a0.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff] = fold1.lane(0) + fold1.lane(1);
        FloatVector fold2 = a1.add(a1.rearrange(Simd.FOLD_1));
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 1] = fold2.lane(0) + fold2.lane(1);
        FloatVector fold3 = a2.add(a2.rearrange(Simd.FOLD_1));
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold3 = fold3.add(fold3.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 2] = fold3.lane(0) + fold3.lane(1);
        FloatVector fold4 = a3.add(a3.rearrange(Simd.FOLD_1));
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold4 = fold4.add(fold4.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        out[outOff + 3] = fold4.lane(0) + fold4.lane(1);
    }
}
