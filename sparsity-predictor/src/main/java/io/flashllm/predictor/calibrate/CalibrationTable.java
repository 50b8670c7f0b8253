package io.flashllm.predictor.calibrate;

import java.util.List;

/** Formats the per-layer calibration table and its totals. */
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

    static String bytes(long b) {
        if (b >= 10L << 20) return String.format("%.1f MiB", b / 1048576.0);
        if (b >= 10L << 10) return String.format("%.1f KiB", b / 1024.0);
        return b + " B";
    }
}
