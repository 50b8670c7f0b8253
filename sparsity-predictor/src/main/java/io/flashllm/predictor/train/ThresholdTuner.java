package io.flashllm.predictor.train;

import java.util.Arrays;

/**
 * Picks the score threshold of a layer on held-out tokens: the highest threshold at which the share
 * of truly active neurons whose score is above it reaches the target recall. A higher threshold
 * means fewer neurons loaded, so this is the cheapest threshold that keeps the recall promise.
 */
public final class ThresholdTuner {
    /** The chosen threshold and what it does on the tokens it was tuned on. */
    public record Tuned(float threshold, double recall, double precision, double predictedFraction, double trueFraction,
                        long positives, long predicted) {}

    private ThresholdTuner() {}

    /**
     * @param scores row-major {@code count x neurons} predictor scores
     * @param data   supplies the true masks of records {@code first..first+count}
     */
    public static Tuned tune(float[] scores, LayerData data, int first, int count, double targetRecall) {
        if (!(targetRecall > 0 && targetRecall <= 1)) throw new IllegalArgumentException("target recall must be in (0, 1], got " + targetRecall);
        int n = data.neurons();
        long positives = 0;
        for (int t = 0; t < count; t++) {
            for (int j = 0; j < n; j++) if (data.active(first + t, j)) positives++;
        }
        float threshold;
        if (positives == 0) {
            threshold = Float.MAX_VALUE;
        } else {
            if (positives > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("too many held-out positives");
            float[] pos = new float[(int) positives];
            int p = 0;
            for (int t = 0; t < count; t++) {
                for (int j = 0; j < n; j++) if (data.active(first + t, j)) pos[p++] = scores[t * n + j];
            }
            Arrays.sort(pos);
            // Neurons are selected when score > threshold; allowing `misses` positives at or below it.
            long misses = (long) Math.floor((1 - targetRecall) * positives + 1e-9);
            int k = (int) Math.min(misses, positives - 1);
            threshold = Math.nextDown(pos[k]);
        }
        return measure(scores, data, first, count, threshold);
    }

    /** Recall, precision and predicted fraction of a given threshold. */
    public static Tuned measure(float[] scores, LayerData data, int first, int count, float threshold) {
        int n = data.neurons();
        long tp = 0;
        long predicted = 0;
        long positives = 0;
        for (int t = 0; t < count; t++) {
            for (int j = 0; j < n; j++) {
                boolean sel = scores[t * n + j] > threshold;
                boolean act = data.active(first + t, j);
                if (sel) predicted++;
                if (act) positives++;
                if (sel && act) tp++;
            }
        }
        double cells = (double) count * n;
        return new Tuned(threshold, positives == 0 ? 1.0 : (double) tp / positives, predicted == 0 ? 1.0 : (double) tp / predicted,
                cells == 0 ? 0 : predicted / cells, cells == 0 ? 0 : positives / cells, positives, predicted);
    }
}
