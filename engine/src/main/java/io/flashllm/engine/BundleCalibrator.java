package io.flashllm.engine;

import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.model.FeedForwardFactory;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.OpenedModelFile;
import io.flashllm.engine.model.Transformer;
import io.flashllm.flashstore.bundle.BundleModel;
import io.flashllm.predictor.calibrate.BundleCalibration;
import io.flashllm.predictor.calibrate.Calibrator;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Calibrates a bundle's sparsity predictors through the real engine: the bundle is opened dense,
 * its FFN wrapped by the trace recorder, and the transformer built over the same opened bundle
 * runs the calibration tokens in batched prefill windows.
 */
public final class BundleCalibrator {
    private BundleCalibrator() {}

    /**
     * Records the FFN inputs of {@code tokens} (in windows of {@code window} tokens, each from an
     * empty cache), trains every layer's predictor and stores them in the bundle.
     */
    public static BundleCalibration.Result calibrate(Path bundle, LoadOptions options, BundleCalibration.Options o,
                                                     int[] tokens, int window, PrintStream progress) {
        if (tokens.length < 2) throw new IllegalArgumentException("calibration needs at least 2 tokens, got " + tokens.length);
        return BundleCalibration.run(bundle, ModelLoader.bundleOptions(options), o, (bm, recorder) -> {
            try (LanguageModel lm = overBundle(bm, options, recorder)) {
                Transformer[] current = new Transformer[1];
                try {
                    Calibrator.runPrefill(len -> {
                        if (current[0] != null) current[0].close();
                        Transformer t = lm.newTransformer(len);
                        current[0] = t;
                        return t::forward;
                    }, tokens, Math.min(window, lm.config().contextLength()), Transformer.MAX_BATCH, progress);
                } finally {
                    if (current[0] != null) current[0].close();
                }
            }
        }, progress);
    }

    /**
     * The transformer over an already opened bundle with {@code ffn} as its FFN. Closing the model
     * closes {@code ffn} (which should pass it on to the bundle's FFN) but leaves the bundle open:
     * its owner closes it.
     */
    static LanguageModel overBundle(BundleModel bm, LoadOptions options, io.flashllm.flashstore.ffn.FeedForward ffn) {
        OpenedModelFile file = OpenedModelFile.of(bm.dir(), bm, () -> {});
        return ModelLoader.assemble(file, options, FeedForwardFactory.withoutFfnWeights((config, weights, parallel) -> ffn));
    }

    /**
     * {@code count} tokens sampled from the model itself (temperature 1, no truncation), in windows
     * of at most {@code window} tokens each started from the model's BOS: text the model finds
     * typical, when no calibration text is given (the FFN's activation pattern is what matters,
     * not the meaning).
     */
    public static int[] sampleTokens(InferenceModel model, int count, int window, long seed, PrintStream progress) {
        if (count < 2) throw new IllegalArgumentException("need at least 2 tokens, got " + count);
        if (window < 2) throw new IllegalArgumentException("window must be at least 2 tokens, got " + window);
        int[] start = model.tokenize("", true);
        if (start.length == 0) start = model.tokenize("The", false);
        int[] out = new int[count];
        int n = 0;
        long s = seed;
        try (var bar = new io.flashllm.predictor.calibrate.ProgressBar(progress, "sampling", count, "tok")) {
            while (n < count) {
                int room = Math.min(window, count - n + start.length) - start.length;
                if (room < 1) break;
                SamplingParams p = new SamplingParams(1f, 0, 1f, 0f, 1f, 64, 0f, 0f, s++, room, List.of(), 0);
                GenerationResult r;
                try (Session session = model.openSession(window)) {
                    r = session.generate(start, p, null);
                }
                int take = Math.min(count - n, start.length + r.tokens().length);
                int[] seq = Arrays.copyOf(start, start.length + r.tokens().length);
                System.arraycopy(r.tokens(), 0, seq, start.length, r.tokens().length);
                System.arraycopy(seq, 0, out, n, take);
                n += take;
                bar.advance(take);
            }
        }
        return n == count ? out : Arrays.copyOf(out, n);
    }
}
