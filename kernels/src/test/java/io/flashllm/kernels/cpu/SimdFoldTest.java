package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Simd#foldLanes} gives the bits of the written-out vector fold the kernels use, at the run's
 * vector width (the kernel tests run again at 256 and 128 bits): a batch kernel that folds in
 * scalars must give what a row kernel that folds in vectors gives.
 */
class SimdFoldTest {

    /** The kernels' fold, as written out in each of them. */
    private static float vectorFold(FloatVector v) {
        FloatVector fold1 = v.add(v.rearrange(Simd.FOLD_1));
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
        fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
        return fold1.lane(0) + fold1.lane(1);
    }

    @Test
    void scalarFoldAddsInTheVectorFoldsOrder() {
        int lanes = Simd.L;
        Random rnd = new Random(5);
        float[] v = new float[3 * lanes];
        int differFromSequential = 0;
        for (int n = 0; n < 20_000; n++) {
            // Magnitudes over many exponents, so that another order of adds rounds differently.
            for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * Math.pow(2, rnd.nextInt(40) - 20));
            int at = rnd.nextInt(2 * lanes + 1);
            float expected = vectorFold(FloatVector.fromArray(Simd.F, v, at));
            float got = Simd.foldLanes(v, at);
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got),
                    () -> "lanes " + lanes + " at " + at + ": vector " + expected + ", scalar " + got);
            float sequential = 0;
            for (int i = 0; i < lanes; i++) sequential += v[at + i];
            if (Float.floatToRawIntBits(sequential) != Float.floatToRawIntBits(expected)) differFromSequential++;
        }
        // The inputs tell orders apart: a lane-after-lane sum differs from the fold on many of them.
        assertTrue(differFromSequential > 1_000, "only " + differFromSequential + " of 20,000 sums told the orders apart");
    }
}
