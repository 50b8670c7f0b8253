package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q6_K's two-row product at 512 bits, with the 6-bit values turned into floats by bit operations
 * instead of byte arithmetic, widening and converting.
 *
 * <p>A 6-bit q placed in mantissa bits 17..22 of the pattern of 1.0f is the float 1 + q/64. The
 * low nibbles (ql) are loaded as sixteen ints, lane i holding ql bytes 4i..4i+3 of a half
 * super-block, so nibble k of a lane sits in bits 4k..4k+3. The 2-bit high parts (qh) are loaded
 * as ints too and shifted so that the pair completing nibble k sits in bits 4k..4k+1 of every lane
 * ({@code hp}; lanes 8..15 hold ql bytes 32..63, whose pairs are two bits further up in qh). Then
 * per nibble k one blend takes bits 4k..4k+3 from ql and the rest from hp shifted up by 4, one
 * shift moves the six bits to 17..22, and one AND-OR cuts them out as a float: three operations per
 * 16 weights (nibble 7's pair would leave the lane, so it is shifted on its own), against about
 * nine byte operations before.
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
            java.util.Arrays.fill(prep, p + START, p + PREP_PER_BLOCK, 0f);
            for (int g = 0; g < 16; g++) {
                float sum = 0;
                for (int t = 0; t < 16; t++) sum += x[xb + 16 * g + t];
                // group g = 8h + 4·high + j: accumulator (h, high), lane 4j
                prep[p + START + 16 * (g >> 2) + 4 * (g & 3)] = -96f * sum;
            }
        }
    }

    /**
     * Two rows: out[outOff + i] = row i . x over {@code blocks} super-blocks, {@code prep} from
     * {@link #prepare}. The two rows' code is written out twice rather than called: a helper taking
     * vectors that C2 does not inline boxes them, and this body is too large to be inlined.
     */
    static void dot2(MemorySegment s, long off0, long off1, int blocks, float[] prep, float[] out, int outOff) {
        IntVector pairShift = IntVector.fromArray(I, PAIR_SHIFT, 0);
        IntVector window = IntVector.broadcast(I, 0x3F << 17), one = IntVector.broadcast(I, 0x3F800000);
        IntVector nib0 = IntVector.broadcast(I, 0xF), nib1 = IntVector.broadcast(I, 0xF << 4);
        IntVector nib2 = IntVector.broadcast(I, 0xF << 8), nib3 = IntVector.broadcast(I, 0xF << 12);
        IntVector nib4 = IntVector.broadcast(I, 0xF << 16), nib5 = IntVector.broadcast(I, 0xF << 20);
        IntVector nib6 = IntVector.broadcast(I, 0xF << 24), nib17 = IntVector.broadcast(I, 0xF << 17);
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        // one flat loop over half super-blocks: both halves written out for two rows exceed C2's node budget
        for (int step = 0; step < 2 * blocks; step++) {
            int b = step >> 1, h = step & 1;
            long o0 = off0 + (long) BYTES * b, o1 = off1 + (long) BYTES * b;
            int px = PREP_PER_BLOCK * b + 128 * h, ps = PREP_PER_BLOCK * b + START + 32 * h;
            VectorShuffle<Integer> qhHalf = h == 0 ? HALF0 : HALF1;
            VectorShuffle<Float> lows = h == 0 ? LOW0 : LOW1, highs = h == 0 ? HIGH0 : HIGH1;
            { // row 0
                IntVector l = IntVector.fromMemorySegment(I, s, o0 + 64 * h, LE);
                IntVector hp = IntVector.fromMemorySegment(I, s, o0 + 128, LE).rearrange(qhHalf).lanewise(VectorOperators.LSHR, pairShift);
                IntVector h4 = hp.lanewise(VectorOperators.LSHL, 4);
                FloatVector lo = FloatVector.fromArray(F, prep, ps);
                FloatVector hi = FloatVector.fromArray(F, prep, ps + 16);
                lo = h4.bitwiseBlend(l, nib0).lanewise(VectorOperators.LSHL, 17).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 0), lo);
                hi = h4.bitwiseBlend(l, nib1).lanewise(VectorOperators.LSHL, 13).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 16), hi);
                lo = h4.bitwiseBlend(l, nib2).lanewise(VectorOperators.LSHL, 9).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 32), lo);
                hi = h4.bitwiseBlend(l, nib3).lanewise(VectorOperators.LSHL, 5).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 48), hi);
                lo = h4.bitwiseBlend(l, nib4).lanewise(VectorOperators.LSHL, 1).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 64), lo);
                hi = h4.bitwiseBlend(l, nib5).lanewise(VectorOperators.LSHR, 3).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 80), hi);
                lo = h4.bitwiseBlend(l, nib6).lanewise(VectorOperators.LSHR, 7).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 96), lo);
                hi = hp.lanewise(VectorOperators.LSHR, 7).bitwiseBlend(l.lanewise(VectorOperators.LSHR, 11), nib17)
                        .and(window).or(one).reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 112), hi);
                FloatVector sd = ((FloatVector) ByteVector.fromMemorySegment(B, s, o0 + 192, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(HALF[s.get(SHORT_LE, o0 + 208) & 0xffff]);
                a0 = hi.fma(sd.rearrange(highs), lo.fma(sd.rearrange(lows), a0));
            }
            { // row 1
                IntVector l = IntVector.fromMemorySegment(I, s, o1 + 64 * h, LE);
                IntVector hp = IntVector.fromMemorySegment(I, s, o1 + 128, LE).rearrange(qhHalf).lanewise(VectorOperators.LSHR, pairShift);
                IntVector h4 = hp.lanewise(VectorOperators.LSHL, 4);
                FloatVector lo = FloatVector.fromArray(F, prep, ps);
                FloatVector hi = FloatVector.fromArray(F, prep, ps + 16);
                lo = h4.bitwiseBlend(l, nib0).lanewise(VectorOperators.LSHL, 17).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 0), lo);
                hi = h4.bitwiseBlend(l, nib1).lanewise(VectorOperators.LSHL, 13).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 16), hi);
                lo = h4.bitwiseBlend(l, nib2).lanewise(VectorOperators.LSHL, 9).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 32), lo);
                hi = h4.bitwiseBlend(l, nib3).lanewise(VectorOperators.LSHL, 5).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 48), hi);
                lo = h4.bitwiseBlend(l, nib4).lanewise(VectorOperators.LSHL, 1).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 64), lo);
                hi = h4.bitwiseBlend(l, nib5).lanewise(VectorOperators.LSHR, 3).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 80), hi);
                lo = h4.bitwiseBlend(l, nib6).lanewise(VectorOperators.LSHR, 7).and(window).or(one)
                        .reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 96), lo);
                hi = hp.lanewise(VectorOperators.LSHR, 7).bitwiseBlend(l.lanewise(VectorOperators.LSHR, 11), nib17)
                        .and(window).or(one).reinterpretAsFloats().fma(FloatVector.fromArray(F, prep, px + 112), hi);
                FloatVector sd = ((FloatVector) ByteVector.fromMemorySegment(B, s, o1 + 192, LE).convertShape(VectorOperators.B2F, F, 0))
                        .mul(HALF[s.get(SHORT_LE, o1 + 208) & 0xffff]);
                a1 = hi.fma(sd.rearrange(highs), lo.fma(sd.rearrange(lows), a1));
            }
        }
        out[outOff] = a0.reduceLanes(VectorOperators.ADD);
        out[outOff + 1] = a1.reduceLanes(VectorOperators.ADD);
    }
}
