package io.flashllm.kernels.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The vector shapes every CPU kernel uses, fixed once per JVM so the JIT sees constants.
 *
 * <p>The float width comes from the system property {@code flashllm.vector.bits} (256 or 512),
 * default the platform's preferred width. Quantized kernels decode one byte per float lane, so the
 * byte species has as many lanes as the float species; a float width under 256 bits would need a
 * byte vector of 4 lanes, which does not exist, and then {@link #ENABLED} is false and the scalar
 * kernels run instead.
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
    /** Whether the vector kernels are in use (float vectors of at least 256 bits). */
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
        return (ENABLED ? "vector " : "scalar (vector width too small) ") + F.vectorBitSize() + "-bit, " + L + " float lanes";
    }

    public static float f16(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(SHORT_LE, off));
    }

    /**
     * Widens {@link #L} IEEE half floats to floats exactly, with integer arithmetic only: normal
     * values are rebiased by adding to the exponent field; subnormals (exponent 0) are the mantissa
     * times 2^-24, computed as int-to-float then a multiply by a normal number, so no denormal
     * operand ever reaches the FPU (that costs a microcode assist on x86); exponent 31 becomes
     * infinity or NaN with the payload kept.
     */
    public static FloatVector halfToFloat(ShortVector h) {
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        IntVector sign = i.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector em = i.and(0x7fff);
        IntVector normal = em.lanewise(VectorOperators.LSHL, 13).add(112 << 23);
        IntVector sub = ((FloatVector) em.convert(VectorOperators.I2F, 0)).mul(0x1p-24f).reinterpretAsInts();
        VectorMask<Integer> isSub = em.compare(VectorOperators.LT, 0x0400);
        VectorMask<Integer> isSpecial = em.compare(VectorOperators.GE, 0x7c00);
        IntVector bits = normal.blend(sub, isSub)
                .blend(em.lanewise(VectorOperators.LSHL, 13).or(0x7f800000), isSpecial);
        return bits.or(sign).reinterpretAsFloats();
    }

    /** Widens {@link #L} bfloat16 values (the top half of a float) to floats. */
    public static FloatVector bf16ToFloat(ShortVector h) {
        IntVector i = (IntVector) h.convertShape(VectorOperators.S2I, I, 0);
        return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Sign-extends the first {@link #L} bytes of {@code q} to floats. */
    public static FloatVector bytesToFloat(ByteVector q) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, F, 0);
    }
}
