package io.flashllm.predictor.runtime;

import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * Production quality of the predictor, counted on sampled (token, layer) pairs whose true mask was
 * computed: true positives, false negatives (needed but not loaded), false positives (loaded for
 * nothing) and the activation mass of the false negatives. Plain adders; the server maps them to
 * Micrometer counters (rates and ratios are then computed over any window).
 */
public final class QualityCounters {
    private final LongAdder samples = new LongAdder();
    private final LongAdder truePositives = new LongAdder();
    private final LongAdder falseNegatives = new LongAdder();
    private final LongAdder falsePositives = new LongAdder();
    private final DoubleAdder missedMass = new DoubleAdder();
    private final DoubleAdder totalMass = new DoubleAdder();

    /** Totals at one moment. */
    public record Snapshot(long samples, long truePositives, long falseNegatives, long falsePositives, double missedMass,
                           double totalMass) {
        /** Share of truly active neurons that were selected (1 when nothing was active). */
        public double recall() {
            long pos = truePositives + falseNegatives;
            return pos == 0 ? 1.0 : (double) truePositives / pos;
        }

        /** Share of selected neurons that were truly active (1 when nothing was selected). */
        public double precision() {
            long sel = truePositives + falsePositives;
            return sel == 0 ? 1.0 : (double) truePositives / sel;
        }

        /** Sum |activation| of missed neurons / sum |activation| of all active neurons. */
        public double falseNegativeMass() {
            return totalMass == 0 ? 0.0 : missedMass / totalMass;
        }
    }

    void add(long tp, long fn, long fp, double missed, double total) {
        samples.increment();
        truePositives.add(tp);
        falseNegatives.add(fn);
        falsePositives.add(fp);
        missedMass.add(missed);
        totalMass.add(total);
    }

    public LongAdder samples() {
        return samples;
    }

    public LongAdder truePositives() {
        return truePositives;
    }

    public LongAdder falseNegatives() {
        return falseNegatives;
    }

    public LongAdder falsePositives() {
        return falsePositives;
    }

    public DoubleAdder missedMass() {
        return missedMass;
    }

    public DoubleAdder totalMass() {
        return totalMass;
    }

    public Snapshot snapshot() {
        return new Snapshot(samples.sum(), truePositives.sum(), falseNegatives.sum(), falsePositives.sum(), missedMass.sum(),
                totalMass.sum());
    }
}
