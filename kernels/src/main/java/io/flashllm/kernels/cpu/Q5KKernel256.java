package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

import static io.flashllm.kernels.cpu.Q4KKernel.SMALL;
import static io.flashllm.kernels.cpu.Simd.B;
import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.HALF;
import static io.flashllm.kernels.cpu.Simd.I;
import static io.flashllm.kernels.cpu.Simd.INT_LE;
import static io.flashllm.kernels.cpu.Simd.LE;
import static io.flashllm.kernels.cpu.Simd.LONG_LE;
import static io.flashllm.kernels.cpu.Simd.SHORT_LE;

/**
 * Q5_K with 256-bit vectors (AVX2): {@link #dot2}, which every row of a product but an odd last
 * one goes through, for eight lanes. The 5-bit values of a pair of sub-blocks (64 weights) are
 * made with byte operations on 32 bytes at a time (shifts in 16-bit lanes, masked per byte, since
 * x86 has no byte shifts), stored to a per-thread buffer and loaded back eight at a time
 * zero-extended to ints: widening each eighth of a register instead costs a shuffle per part. The
 * width-independent path decoded a super-block into the buffer with 16-byte operations and ran at
 * 2.9 GB/s on one core; this kernel 6.6 (in L2, {@code -XX:UseAVX=2}). Both rows are decoded a
 * chunk at a time before a loop over the chunk's (super-block, pair) steps, with the scales
 * unpacked inline, d folded into each sub-block's scale, and the second row reading its own copy
 * of x from {@code prep}, as in {@link Q4KKernel256}. No vector lives across a call or a branch:
 * with the decode called inside the vector loop (not inlined in some compiles) or the
 * accumulators reset per super-block in a branch, C2 boxed them in some engine runs (6-7 tok/s
 * against 10, found with JFR's allocation samples).
 */
final class Q5KKernel256 extends Q5KKernel {
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
    /** In 16-bit lanes: the low nibble of each byte, and bit 4 of each byte. */
    private static final ShortVector LOW = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 0x0f0f);
    private static final ShortVector BIT4 = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 0x1010);
    /**
     * Super-blocks per chunk: both rows' 5-bit values of a chunk (1 KiB) stay in L1 beside the
     * loop's x. Two rows of llama's 8,192-column down projection whole were 16 KiB; two-thread
     * KernelBench from DRAM read 7.1-7.3 GB/s with chunks of 2, 6.9 with 8, 6.4 with whole rows.
     */
    private static final int CHUNK = 2;
    /** Per thread: both rows' 5-bit values of one chunk. */
    private static final ThreadLocal<byte[]> FIVES = ThreadLocal.withInitial(() -> new byte[2 * 256 * CHUNK]);

    Q5KKernel256() {
        if (Simd.L != 8) throw new IllegalStateException("Q5KKernel256 needs 8 float lanes, have " + Simd.L);
    }

    /** The sums of x per sub-block of 32 (the mins' share), then a copy of x for {@link #dot2}'s second row. */
    @Override
    public int prepSize(int cols) {
        return sumsAndCopySize(cols);
    }

    @Override
    public void prepare(float[] x, int xOff, int cols, float[] prep) {
        sumsAndCopy(x, xOff, cols, prep);
    }

    @Override
    public void dot2(MemorySegment s, long off0, long off1, int cols, float[] x, int xOff, float[] prep,
                     float[] out, int outOff) {
        byte[] q = FIVES.get();
        float r0 = 0, r1 = 0, m0 = 0, m1 = 0;
        int blocks = cols / 256, yOff = cols / 32;
        for (int c = 0; c < blocks; c += CHUNK) {
            int end = Math.min(blocks, c + CHUNK);
            // a chunk of both rows decoded before the vector loop, with no vector alive across
            // the calls: a call inside the loop, when C2 did not inline it, boxed the
            // accumulators that live across it (7 tok/s against 10 in some runs)
            for (int b = c; b < end; b++) {
                fives(s, off0 + 176L * b, q, 256 * (b - c));
                fives(s, off1 + 176L * b, q, 256 * CHUNK + 256 * (b - c));
            }
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            for (int k = 4 * c; k < 4 * end; k++) {
                int b = k >>> 2, g = k & 3;
                int sh = 16 * g;
                long o0 = off0 + 176L * b, o1 = off1 + 176L * b;
                int q0 = 64 * (k - 4 * c), q1 = 256 * CHUNK + q0;
                int xb0 = xOff + 64 * k;
                FloatVector pl0 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q0).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb0));
                pl0 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q0 + 8).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 8), pl0);
                pl0 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q0 + 16).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 16), pl0);
                pl0 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q0 + 24).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 24), pl0);
                FloatVector ph0 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q0 + 32).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xb0 + 32));
                ph0 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q0 + 40).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 40), ph0);
                ph0 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q0 + 48).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 48), ph0);
                ph0 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q0 + 56).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, x, xb0 + 56), ph0);
                long lo0 = s.get(LONG_LE, o0 + 4), hi0 = s.get(INT_LE, o0 + 12) & 0xffffffffL;
                long sc0 = (lo0 & 0x3f3f3f3fL) | (((hi0 & 0x0f0f0f0fL) | (((lo0 >>> 6) & 0x03030303L) << 4)) << 32);
                float d0 = HALF[s.get(SHORT_LE, o0) & 0xffff];
                acc0 = pl0.fma(FloatVector.broadcast(F, d0 * SMALL[(int) (sc0 >>> sh) & 0xff]), acc0);
                acc0 = ph0.fma(FloatVector.broadcast(F, d0 * SMALL[(int) (sc0 >>> (sh + 8)) & 0xff]), acc0);

                int xb1 = yOff + 64 * k;
                FloatVector pl1 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q1).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, prep, xb1));
                pl1 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q1 + 8).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 8), pl1);
                pl1 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q1 + 16).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 16), pl1);
                pl1 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q1 + 24).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 24), pl1);
                FloatVector ph1 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q1 + 32).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, prep, xb1 + 32));
                ph1 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q1 + 40).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 40), ph1);
                ph1 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q1 + 48).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 48), ph1);
                ph1 = ((FloatVector) ((IntVector) ByteVector.fromArray(B, q, q1 + 56).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0)).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(F, prep, xb1 + 56), ph1);
                long lo1 = s.get(LONG_LE, o1 + 4), hi1 = s.get(INT_LE, o1 + 12) & 0xffffffffL;
                long sc1 = (lo1 & 0x3f3f3f3fL) | (((hi1 & 0x0f0f0f0fL) | (((lo1 >>> 6) & 0x03030303L) << 4)) << 32);
                float d1 = HALF[s.get(SHORT_LE, o1) & 0xffff];
                acc1 = pl1.fma(FloatVector.broadcast(F, d1 * SMALL[(int) (sc1 >>> sh) & 0xff]), acc1);
                acc1 = ph1.fma(FloatVector.broadcast(F, d1 * SMALL[(int) (sc1 >>> (sh + 8)) & 0xff]), acc1);
                if (g == 3) {
                    long mn0 = ((lo0 >>> 32) & 0x3f3f3f3fL) | ((((hi0 >>> 4) & 0x0f0f0f0fL) | (((lo0 >>> 38) & 0x03030303L) << 4)) << 32);
                    float u0 = SMALL[(int) mn0 & 0xff] * prep[8 * b] + SMALL[(int) (mn0 >>> 8) & 0xff] * prep[8 * b + 1]
                            + SMALL[(int) (mn0 >>> 16) & 0xff] * prep[8 * b + 2] + SMALL[(int) (mn0 >>> 24) & 0xff] * prep[8 * b + 3]
                            + SMALL[(int) (mn0 >>> 32) & 0xff] * prep[8 * b + 4] + SMALL[(int) (mn0 >>> 40) & 0xff] * prep[8 * b + 5]
                            + SMALL[(int) (mn0 >>> 48) & 0xff] * prep[8 * b + 6] + SMALL[(int) (mn0 >>> 56) & 0xff] * prep[8 * b + 7];
                    m0 += HALF[s.get(SHORT_LE, o0 + 2) & 0xffff] * u0;
                    long mn1 = ((lo1 >>> 32) & 0x3f3f3f3fL) | ((((hi1 >>> 4) & 0x0f0f0f0fL) | (((lo1 >>> 38) & 0x03030303L) << 4)) << 32);
                    float u1 = SMALL[(int) mn1 & 0xff] * prep[8 * b] + SMALL[(int) (mn1 >>> 8) & 0xff] * prep[8 * b + 1]
                            + SMALL[(int) (mn1 >>> 16) & 0xff] * prep[8 * b + 2] + SMALL[(int) (mn1 >>> 24) & 0xff] * prep[8 * b + 3]
                            + SMALL[(int) (mn1 >>> 32) & 0xff] * prep[8 * b + 4] + SMALL[(int) (mn1 >>> 40) & 0xff] * prep[8 * b + 5]
                            + SMALL[(int) (mn1 >>> 48) & 0xff] * prep[8 * b + 6] + SMALL[(int) (mn1 >>> 56) & 0xff] * prep[8 * b + 7];
                    m1 += HALF[s.get(SHORT_LE, o1 + 2) & 0xffff] * u1;
                }
            }
            FloatVector fold1 = acc0.add(acc0.rearrange(Simd.FOLD_1));
            fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
            fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
            r0 += fold1.lane(0) + fold1.lane(1);
            FloatVector fold2 = acc1.add(acc1.rearrange(Simd.FOLD_1));
            fold2 = fold2.add(fold2.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
            fold2 = fold2.add(fold2.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
            r1 += fold2.lane(0) + fold2.lane(1);
        }
        out[outOff] = r0 - m0;
        out[outOff + 1] = r1 - m1;
    }

    /**
     * The 256 five-bit values of the super-block at {@code o} into {@code q[at .. at + 256)}, in
     * {@link #dot2}'s order: per pair g of sub-blocks the low nibbles with bit 2g of each qh byte,
     * then the high nibbles with bit 2g + 1. Shifts run in 16-bit lanes (x86 has no byte shifts),
     * each result masked to the bits that came from its own byte. Every shift is a constant:
     * written into {@link #dot2}'s loop with a shift by 2g, the loop grew too large for C1 ("out of
     * virtual registers"), which left it to the interpreter's boxed vectors.
     */
    private static void fives(MemorySegment s, long o, byte[] q, int at) {
        ShortVector h = ByteVector.fromMemorySegment(B32, s, o + 16, LE).reinterpretAsShorts();
        ShortVector v = ByteVector.fromMemorySegment(B32, s, o + 48, LE).reinterpretAsShorts();
        v.and(LOW).or(h.lanewise(VectorOperators.LSHL, 4).and(BIT4)).reinterpretAsBytes().intoArray(q, at);
        v.lanewise(VectorOperators.LSHR, 4).and(LOW).or(h.lanewise(VectorOperators.LSHL, 3).and(BIT4)).reinterpretAsBytes().intoArray(q, at + 32);
        v = ByteVector.fromMemorySegment(B32, s, o + 80, LE).reinterpretAsShorts();
        v.and(LOW).or(h.lanewise(VectorOperators.LSHL, 2).and(BIT4)).reinterpretAsBytes().intoArray(q, at + 64);
        v.lanewise(VectorOperators.LSHR, 4).and(LOW).or(h.lanewise(VectorOperators.LSHL, 1).and(BIT4)).reinterpretAsBytes().intoArray(q, at + 96);
        v = ByteVector.fromMemorySegment(B32, s, o + 112, LE).reinterpretAsShorts();
        v.and(LOW).or(h.and(BIT4)).reinterpretAsBytes().intoArray(q, at + 128);
        v.lanewise(VectorOperators.LSHR, 4).and(LOW).or(h.lanewise(VectorOperators.LSHR, 1).and(BIT4)).reinterpretAsBytes().intoArray(q, at + 160);
        v = ByteVector.fromMemorySegment(B32, s, o + 144, LE).reinterpretAsShorts();
        v.and(LOW).or(h.lanewise(VectorOperators.LSHR, 2).and(BIT4)).reinterpretAsBytes().intoArray(q, at + 192);
        v.lanewise(VectorOperators.LSHR, 4).and(LOW).or(h.lanewise(VectorOperators.LSHR, 3).and(BIT4)).reinterpretAsBytes().intoArray(q, at + 224);
    }
}
