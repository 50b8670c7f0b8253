package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The vector shapes every CPU kernel uses, fixed once per JVM so the JIT sees constants.
 *
 * <p>The float width comes from the system property {@code flashllm.vector.bits} (128, 256 or
 * 512, at most the platform's preferred width, which is the default). The wide quantized kernels
 * decode one byte per float lane, so the byte species has as many lanes as the float species; at
 * 128 bits that would be a byte vector of 4 lanes, which does not exist, so {@link #ENABLED} is
 * false and {@code RowKernel} picks the narrow kernels, which load 8 bytes at a time.
 */
public final class Simd {
    public static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    public static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    public static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    public static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(LE);
    public static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    public static final VectorSpecies<Float> F;
    public static final VectorSpecies<Integer> I;
    public static final VectorSpecies<Short> S;
    public static final VectorSpecies<Byte> B;
    /** Float lanes per vector. */
    public static final int L;
    /** Whether the wide vector kernels are in use (float vectors of at least 256 bits); else the 128-bit ones. */
    public static final boolean ENABLED;

    static {
        int bits = Integer.getInteger("flashllm.vector.bits", FloatVector.SPECIES_PREFERRED.vectorBitSize());
        int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        if (bits != 128 && bits != 256 && bits != 512) {
            throw new IllegalArgumentException("flashllm.vector.bits must be 128, 256 or 512, got " + bits);
        }
        bits = Math.min(bits, preferred);
        F = speciesF(bits);
        L = F.length();
        I = IntVector.SPECIES_PREFERRED.withShape(F.vectorShape()).check(int.class);
        ENABLED = L >= 8;
        S = ShortVector.SPECIES_64.withShape(VectorShape.forBitSize(Math.max(64, L * 16))).check(short.class);
        B = ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(Math.max(64, L * 8))).check(byte.class);
    }

    /*
     * A float vector's lanes are summed in one fixed order, written out at each sum: lane i plus
     * lane i ^ (L/2), then i ^ (L/4) and i ^ (L/8) where the width has them (a masked add that
     * adds nothing where it has not), then lane 0 plus lane 1. reduceLanes(ADD) leaves its order
     * to the implementation, and the JIT tiers differ: the interpreter and C1 add lane after lane,
     * C2 in another order, so a product computed before C2 compiled its kernel differed in the
     * last bits from the same product after, and log-probabilities from run to run. Lane-wise
     * operations round the same in every tier. Written out because a helper taking the vector is
     * not inlined into the large kernels (C2's node-count cutoff), which boxes the vector
     * (kernels/README.md, "Run-to-run differences in the last bits").
     */
    public static final VectorShuffle<Float> FOLD_1 = foldShuffle(F, 1), FOLD_2 = foldShuffle(F, 2), FOLD_3 = foldShuffle(F, 3);
    public static final VectorMask<Float> FOLD_2_ON = foldOn(F, 2), FOLD_3_ON = foldOn(F, 3);

    /** Step {@code step} (1..3) of the fixed-order sum over {@code species}: lane i takes lane i ^ (lanes >> step). */
    public static VectorShuffle<Float> foldShuffle(VectorSpecies<Float> species, int step) {
        int lanes = species.length();
        return VectorShuffle.fromOp(species, i -> i ^ Math.max(1, lanes >> step));
    }

    /** Whether step {@code step} adds anything at this width: the steps stop at two lanes. */
    public static VectorMask<Float> foldOn(VectorSpecies<Float> species, int step) {
        return VectorMask.fromLong(species, species.length() >> step >= 2 ? -1L : 0L);
    }

    private static VectorSpecies<Float> speciesF(int bits) {
        return switch (bits) {
            case 128 -> FloatVector.SPECIES_128;
            case 256 -> FloatVector.SPECIES_256;
            default -> FloatVector.SPECIES_512;
        };
    }

    private Simd() {}

    /** A human-readable description for benchmarks and logs. */
    public static String describe() {
        return F.vectorBitSize() + "-bit vectors" + (ENABLED ? "" : " (narrow kernels)") + ", " + L + " float lanes";
    }

    /**
     * Every f16 bit pattern (as an unsigned index) widened to float. Kernels that convert one
     * scale per block index it directly ({@code HALF[s.get(SHORT_LE, off) & 0xffff]}), which C2
     * compiles to a broadcast straight from memory: a load, where {@link Float#float16ToFloat} plus
     * a broadcast is three vector-port uops per block (vmovd, vcvtph2ps, vbroadcastss). The
     * scales of a weight tensor span a few exponents, so the lines used stay in L1. Written out at
     * each use rather than through a helper, which C2 declined to inline in the 4-row loops.
     */
    static final float[] HALF = new float[1 << 16];

    static {
        for (int i = 0; i < HALF.length; i++) HALF[i] = Float.float16ToFloat((short) i);
    }

    /**
     * The sum of {@code x[at .. at + 32)}: what the kernels with a per-block offset or min prepare
     * once per product (Σx per block of 32). Called once per 32 activations, not per weight.
     */
    static float sum32(float[] x, int at) {
        FloatVector sum = FloatVector.fromArray(F, x, at);
        for (int j = L; j < 32; j += L) sum = sum.add(FloatVector.fromArray(F, x, at + j));
        FloatVector fold1 = sum.add(sum.rearrange(FOLD_1));
        fold1 = fold1.add(fold1.rearrange(FOLD_2), FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(FOLD_3), FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    /**
     * The lanes {@code v[at .. at + L)} summed in the fold's order above, in scalars: the same adds
     * in the same order as the written-out vector fold, so the same bits. For a kernel with many
     * sums to fold, where sixteen vector folds would add ~130 Vector API calls for C2 to inline
     * ({@code Q8_0Batch4}; kernels/README.md, "What a kernel's compile costs").
     */
    static float foldLanes(float[] v, int at) {
        if (L == 16) {
            float s0 = v[at] + v[at + 8], s1 = v[at + 1] + v[at + 9], s2 = v[at + 2] + v[at + 10], s3 = v[at + 3] + v[at + 11];
            float s4 = v[at + 4] + v[at + 12], s5 = v[at + 5] + v[at + 13], s6 = v[at + 6] + v[at + 14], s7 = v[at + 7] + v[at + 15];
            float t0 = s0 + s4, t1 = s1 + s5, t2 = s2 + s6, t3 = s3 + s7;
            return (t0 + t2) + (t1 + t3);
        }
        if (L == 8) {
            float s0 = v[at] + v[at + 4], s1 = v[at + 1] + v[at + 5], s2 = v[at + 2] + v[at + 6], s3 = v[at + 3] + v[at + 7];
            return (s0 + s2) + (s1 + s3);
        }
        return (v[at] + v[at + 2]) + (v[at + 1] + v[at + 3]);
    }

    public static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT_LE, off));
    }
}
