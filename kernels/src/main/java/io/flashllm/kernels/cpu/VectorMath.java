package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * exp and tanh over float vectors from multiply-adds only, for the activations and softmax.
 * {@code lanewise(EXP)} is only as good as the vector math library the JDK finds: SVML on x86-64,
 * SLEEF on aarch64 where the JDK was built with it, and otherwise a per-lane Java fallback that ran
 * 9x slower and allocated 90-164 KB per call of {@code siluMul} over 8192 values
 * ({@code -Djdk.incubator.vector.VectorMathLibrary=java}, which is what an ARM box without SLEEF
 * gets). These need nothing from the platform, allocate nothing once inlined, and give the same
 * results on every machine.
 *
 * <p>exp: x = n ln2 + r with n the nearest integer to x / ln2 and |r| <= ln2 / 2 (ln2 split in a
 * short high part, exact in n * hi, and a low part); e^r by its Taylor series to r^7 (the first
 * term left out is 5e-9 relative at |r| = ln2 / 2, far under a float ulp); 2^n applied as two
 * factors 2^(n/2) and 2^(n - n/2), so results at the ends of the range overflow to infinity or
 * fall gradually to subnormals and zero instead of wrapping the exponent field.
 */
public final class VectorMath {
    private VectorMath() {}

    private static final float LOG2E = 1.4426950408889634f;
    /** ln 2 to 16 significant bits: n * LN2_HI is exact for every n reached here. */
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.4286068203094172e-6f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    /** Beyond these e^x is 0 (below 2^-150) or infinite (above 2^128) in float; clamping keeps n small. */
    private static final float EXP_LOW = -104f;
    private static final float EXP_HIGH = 89f;

    /** e^x per lane: within 1 ulp of the exact value (0.88 the worst in VectorMathTest's sweep); -inf gives 0, +inf gives +inf, NaN gives NaN. */
    public static FloatVector exp(FloatVector x) {
        var sp = x.species();
        FloatVector c = x.max(EXP_LOW).min(EXP_HIGH);
        FloatVector t = c.fma(LOG2E, ROUNDER);
        FloatVector n = t.sub(ROUNDER);
        IntVector ni = t.reinterpretAsInts().sub(ROUNDER_BITS);
        FloatVector r = n.fma(FloatVector.broadcast(sp, -LN2_HI), c);
        r = n.fma(FloatVector.broadcast(sp, -LN2_LO), r);
        FloatVector p = r.fma(1f / 5040, 1f / 720);
        p = p.fma(r, FloatVector.broadcast(sp, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(sp, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(sp, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(sp, 0.5f));
        p = p.fma(r, FloatVector.broadcast(sp, 1f));
        p = p.fma(r, FloatVector.broadcast(sp, 1f));
        IntVector half = ni.lanewise(VectorOperators.ASHR, 1);
        FloatVector s1 = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = ni.sub(half).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(s1).mul(s2);
    }

    /**
     * tanh per lane as sign(x) (1 - 2 / (e^(2|x|) + 1)), and as x - x^3 / 3 below |x| = 2^-10, where
     * that form would round to zero: within 1.5e-7 of {@link Math#tanh} absolutely (less exact
     * relatively between 2^-10 and about 0.1, where GELU adds it to one and soft caps scale it by
     * the cap, so absolute error is the one that shows).
     */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector e = exp(a.add(a));
        FloatVector t = FloatVector.broadcast(x.species(), 2f).div(e.add(1f)).neg().add(1f);
        IntVector sign = x.reinterpretAsInts().and(Integer.MIN_VALUE);
        FloatVector large = t.reinterpretAsInts().or(sign).reinterpretAsFloats();
        FloatVector small = x.mul(x.mul(x).mul(-1f / 3).add(1f));
        return large.blend(small, a.compare(VectorOperators.LT, 0x1p-10f));
    }
}
