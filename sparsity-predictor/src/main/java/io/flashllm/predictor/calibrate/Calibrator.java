package io.flashllm.predictor.calibrate;

import io.flashllm.predictor.eval.TokenModel;

import java.io.PrintStream;
import java.util.function.IntFunction;

/**
 * Runs calibration text through the model whose FFN is a {@code TraceRecorder}, in windows of at
 * most the context length, each from an empty cache; every token's FFN inputs are recorded as a
 * side effect of the forward pass.
 */
public final class Calibrator {
    private Calibrator() {}

    /**
     * @param session opens the model with an empty cache for a window (the int is its length)
     * @param tokens  the calibration tokens
     * @param window  tokens per window (at most the model's context)
     */
    public static void run(IntFunction<TokenModel> session, int[] tokens, int window, PrintStream progress) {
        if (window < 1) throw new IllegalArgumentException("window must be positive");
        try (ProgressBar bar = new ProgressBar(progress, "recording", tokens.length, "tok")) {
            for (int start = 0; start < tokens.length; start += window) {
                int end = Math.min(tokens.length, start + window);
                TokenModel m = session.apply(end - start);
                for (int i = start; i < end; i++) {
                    m.forward(tokens[i], i - start);
                    bar.advance(1);
                }
            }
        }
    }
}
