package io.flashllm.server.cli;

import java.util.Locale;

/** The line the CLI prints about a running sparsity predictor. */
final class PredictorReport {
    private PredictorReport() {}

    static String recall(double recall) {
        return Double.isNaN(recall)
                ? "predictor recall: no token checked yet (raise --predictor-sample-rate)"
                : String.format(Locale.ROOT, "predictor recall %.4f (share of truly active neurons selected, on the checked tokens)", recall);
    }
}
