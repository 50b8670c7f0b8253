package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VectorMath against java.lang.Math (double precision, rounded once), at the vector width of the run. */
class VectorMathTest {

    /** Every 509th float bit pattern of each sign within [lo, hi]: all exponents, a few million values. */
    private static float[] sweep(float lo, float hi) {
        float[] out = new float[2 * (0x7f800000 / 509 + 1)];
        int count = 0;
        for (int sign = 0; sign < 2; sign++) {
            for (int bits = 0; bits < 0x7f800000; bits += 509) {
                float v = Float.intBitsToFloat(bits | (sign << 31));
                if (v >= lo && v <= hi) out[count++] = v;
            }
        }
        return java.util.Arrays.copyOf(out, count);
    }

    private static float[] apply(UnaryOperator<FloatVector> f, float[] x) {
        int lanes = Simd.L;
        float[] padded = java.util.Arrays.copyOf(x, (x.length + lanes - 1) / lanes * lanes);
        float[] out = new float[padded.length];
        for (int i = 0; i < padded.length; i += lanes) {
            f.apply(FloatVector.fromArray(Simd.F, padded, i)).intoArray(out, i);
        }
        return java.util.Arrays.copyOf(out, x.length);
    }

    @Test
    void expIsWithinOneUlpOverTheWholeFloatRange() {
        float[] x = sweep(-110f, 95f);
        assertTrue(x.length > 1_000_000, "sweep too small: " + x.length);
        float[] got = apply(VectorMath::exp, x);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = Math.exp(x[i]);
            float want = (float) exact;
            float g = got[i];
            if (Float.isInfinite(want) || want == 0f) {
                // Past the ends: the exact value is within a rounding of the overflow or underflow.
                assertTrue(g == want || Math.abs(g - exact) <= 2 * Math.ulp(want), "exp(" + x[i] + ") = " + g + ", want " + want);
                continue;
            }
            double err = Math.abs(g - exact) / Math.ulp(want);
            if (want < Float.MIN_NORMAL) err = Math.abs(g - exact) / Float.MIN_VALUE; // subnormal: absolute
            if (err > worst) {
                worst = err;
                worstAt = x[i];
            }
        }
        assertTrue(worst <= 1.0, "worst error " + worst + " ulp at exp(" + worstAt + ")");
    }

    @Test
    void expOfSpecialValues() {
        float[] x = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f, 1f, -1f,
                88.72283f, 88.72284f, 89f, 1000f, -87.33654f, -103.97208f, -104f, -1000f, Float.MAX_VALUE, -Float.MAX_VALUE};
        float[] got = apply(VectorMath::exp, x);
        assertEquals(0f, got[0]);
        assertEquals(Float.POSITIVE_INFINITY, got[1]);
        assertTrue(Float.isNaN(got[2]));
        assertEquals(1f, got[3]);
        assertEquals(1f, got[4]);
        assertEquals((float) Math.E, got[5], Math.ulp((float) Math.E));
        assertEquals((float) Math.exp(-1), got[6], Math.ulp((float) Math.exp(-1)));
        assertEquals((float) Math.exp(88.72283f), got[7], 2 * Math.ulp(Float.MAX_VALUE));
        assertEquals(Float.POSITIVE_INFINITY, got[8]);
        assertEquals(Float.POSITIVE_INFINITY, got[9]);
        assertEquals(Float.POSITIVE_INFINITY, got[10]);
        assertEquals((float) Math.exp(-87.33654f), got[11], 2 * Math.ulp(Float.MIN_NORMAL));
        assertEquals((float) Math.exp(-103.97208f), got[12], Float.MIN_VALUE); // the smallest subnormal
        assertEquals(0f, got[13]);
        assertEquals(0f, got[14]);
        assertEquals(Float.POSITIVE_INFINITY, got[15]);
        assertEquals(0f, got[16]);
    }

    @Test
    void tanhIsWithinFloatRoundingOfTheExactValue() {
        float[] x = sweep(-30f, 30f);
        float[] got = apply(VectorMath::tanh, x);
        double worst = 0;
        float worstAt = 0;
        for (int i = 0; i < x.length; i++) {
            double exact = Math.tanh(x[i]);
            double err = Math.abs(got[i] - exact);
            if (err > worst) {
                worst = err;
                worstAt = x[i];
            }
            assertEquals(Math.signum(exact), Math.signum(got[i]), "sign of tanh(" + x[i] + ")");
        }
        assertTrue(worst <= 1.5e-7, "worst error " + worst + " at tanh(" + worstAt + ")");
    }

    @Test
    void tanhOfSpecialValues() {
        float[] x = {Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, -0f, 100f, -100f, 1e-30f};
        float[] got = apply(VectorMath::tanh, x);
        assertEquals(-1f, got[0]);
        assertEquals(1f, got[1]);
        assertTrue(Float.isNaN(got[2]));
        assertEquals(0f, got[3]);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(got[4]));
        assertEquals(1f, got[5]);
        assertEquals(-1f, got[6]);
        assertEquals(0f, got[7], 1e-29f);
    }
}
