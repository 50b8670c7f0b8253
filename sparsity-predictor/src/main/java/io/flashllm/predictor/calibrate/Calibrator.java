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
    /** Runs prompt tokens through the model together (the engine's batched prefill). */
    @FunctionalInterface
    public interface Prefill {
        /** Runs {@code tokens[off..off+count)} at positions {@code startPos..}, after the earlier positions. */
        void prefill(int[] tokens, int off, int count, int startPos);
    }

    private Calibrator() {}

    /**
     * Like {@link #run} but through batched prefill, {@code batch} tokens at a time: each FFN weight
     * row is read once per batch instead of once per token, which makes calibration several times
     * faster. The recorder sees the same FFN inputs either way.
     */
    public static void runPrefill(IntFunction<Prefill> session, int[] tokens, int window, int batch, PrintStream progress) {
        if (window < 1 || batch < 1) throw new IllegalArgumentException("window and batch must be positive");
        try (ProgressBar bar = new ProgressBar(progress, "recording", tokens.length, "tok")) {
            for (int start = 0; start < tokens.length; start += window) {
                int end = Math.min(tokens.length, start + window);
                Prefill m = session.apply(end - start);
                for (int i = start; i < end; i += batch) {
                    int n = Math.min(batch, end - i);
                    m.prefill(tokens, i, n, i - start);
                    bar.advance(n);
                }
            }
        }
    }

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
