package io.flashllm.predictor.train;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThresholdTunerTest {
    /** Scores: active neurons ~ N(2, 1), inactive ~ N(-2, 1); about a quarter active. */
    static LayerData data(Random r, int count, int neurons, float[] scores) {
        long[] masks = new long[count * ((neurons + 63) / 64)];
        int words = (neurons + 63) / 64;
        for (int t = 0; t < count; t++) {
            for (int j = 0; j < neurons; j++) {
                boolean on = r.nextInt(4) == 0;
                if (on) masks[t * words + (j >>> 6)] |= 1L << (j & 63);
                scores[t * neurons + j] = (float) (r.nextGaussian() + (on ? 2 : -2));
            }
        }
        return new LayerData(1, neurons, count, new float[count], masks);
    }

    @Test
    void tunedThresholdKeepsTheTargetRecallOnTheTunedTokensAndHeldOutOnes() {
        Random r = new Random(10);
        int count = 2000;
        int neurons = 100;
        float[] scores = new float[count * neurons];
        LayerData d = data(r, count, neurons, scores);
        for (double target : new double[] {0.9, 0.99, 0.999}) {
            ThresholdTuner.Tuned tuned = ThresholdTuner.tune(scores, d, 0, 1000, target);
            assertTrue(tuned.recall() >= target, "recall " + tuned.recall() + " below " + target);
            assertTrue(tuned.recall() < target + 0.002, "threshold not the highest possible: recall " + tuned.recall());
            // On the other half (not seen while tuning) recall is close to the target.
            float[] rest = java.util.Arrays.copyOfRange(scores, 1000 * neurons, count * neurons);
            ThresholdTuner.Tuned held = ThresholdTuner.measure(rest, d, 1000, 1000, tuned.threshold());
            assertEquals(target, held.recall(), Math.max(0.006, (1 - target) * 0.6), "held-out recall at target " + target);
            // Manual count of the same threshold.
            long tp = 0;
            long sel = 0;
            long pos = 0;
            for (int t = 0; t < 1000; t++) {
                for (int j = 0; j < neurons; j++) {
                    boolean s = scores[t * neurons + j] > tuned.threshold();
                    boolean a = d.active(t, j);
                    if (s) sel++;
                    if (a) pos++;
                    if (s && a) tp++;
                }
            }
            assertEquals((double) tp / pos, tuned.recall(), 1e-12);
            assertEquals((double) tp / sel, tuned.precision(), 1e-12);
            assertEquals(sel / 100_000.0, tuned.predictedFraction(), 1e-12);
        }
    }

    @Test
    void layerThatNeverFiresSelectsNothing() {
        LayerData d = new LayerData(1, 10, 5, new float[5], new long[5]);
        float[] scores = new float[50];
        java.util.Arrays.fill(scores, 3f);
        ThresholdTuner.Tuned t = ThresholdTuner.tune(scores, d, 0, 5, 0.99);
        assertEquals(0, t.predicted());
        assertEquals(1.0, t.recall());
    }
}
