package io.flashllm.predictor.calibrate;

import io.flashllm.predictor.eval.WindowSimulator;

import java.util.List;
import java.util.Locale;

/** Formats the per-layer calibration table and its totals, and the held-out window sweep. */
public final class CalibrationTable {
    private CalibrationTable() {}

    public static String format(List<LayerReport> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%5s %6s %8s %9s %10s %10s %10s %10s %7s%n", "layer", "rank", "recall", "precision",
                "predicted", "true-act", "svd-only", "bytes", "epoch"));
        double recall = 0;
        double precision = 0;
        double pred = 0;
        double truth = 0;
        long bytes = 0;
        for (LayerReport r : rows) {
            sb.append(String.format("%5d %6d %8.4f %9.4f %9.2f%% %9.2f%% %9.2f%% %10s %7d%n", r.layer(), r.rank(), r.recall(),
                    r.precision(), 100 * r.predictedFraction(), 100 * r.trueFraction(), 100 * r.svdPredictedFraction(),
                    bytes(r.bytes()), r.bestEpoch()));
            recall += r.recall();
            precision += r.precision();
            pred += r.predictedFraction();
            truth += r.trueFraction();
            bytes += r.bytes();
        }
        int n = Math.max(1, rows.size());
        sb.append(String.format("%5s %6s %8.4f %9.4f %9.2f%% %9.2f%% %10s %10s%n", "mean", "", recall / n, precision / n,
                100 * pred / n, 100 * truth / n, "", bytes(bytes)));
        return sb.toString();
    }

    /**
     * FFN bytes read per token ÷ dense FFN bytes for each window k, the stored predictors against
     * exact selection (the recorded true masks) on the same held-out tokens. Every neuron's bundle
     * has the same size, so the ratio is neurons read ÷ all neurons.
     */
    public static String formatWindows(WindowSimulator.Result predicted, WindowSimulator.Result exact) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "FFN bytes read per token / dense FFN bytes, window of the last k tokens"
                + " (held-out tokens: %d per layer, %d layers)%n", predicted.tokens(), predicted.layers()));
        sb.append(String.format(Locale.ROOT, "%-10s", "k"));
        for (int k = 0; k < predicted.readFraction().length; k++) sb.append(String.format(Locale.ROOT, " %7d", k));
        sb.append(System.lineSeparator());
        row(sb, "predicted", predicted.readFraction());
        row(sb, "exact", exact.readFraction());
        sb.append(String.format(Locale.ROOT, "neurons the window keeps in DRAM / all neurons%n"));
        row(sb, "predicted", predicted.heldFraction());
        row(sb, "exact", exact.heldFraction());
        sb.append(String.format(Locale.ROOT, "predicted selects %.2f%% of neurons at recall %.4f; %.2f%% are truly active%n",
                100 * predicted.selectedFraction(), predicted.recall(), 100 * exact.trueFraction()));
        return sb.toString();
    }

    private static void row(StringBuilder sb, String name, double[] fractions) {
        sb.append(String.format(Locale.ROOT, "%-10s", name));
        for (double f : fractions) sb.append(String.format(Locale.ROOT, " %7.4f", f));
        sb.append(System.lineSeparator());
    }

    static String bytes(long b) {
        if (b >= 10L << 20) return String.format("%.1f MiB", b / 1048576.0);
        if (b >= 10L << 10) return String.format("%.1f KiB", b / 1024.0);
        return b + " B";
    }
}
