package io.flashllm.engine;

import io.flashllm.engine.api.FlashStats;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.generate.LoadedModel;
import io.flashllm.engine.testutil.TestVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.bundle.BundleFeedForward;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.GgmlType;
import io.flashllm.predictor.calibrate.BundleCalibration;
import io.flashllm.predictor.calibrate.RankPlan;
import io.flashllm.predictor.runtime.PredictedSelector;
import io.flashllm.predictor.train.TrainOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loader registers the predicted selector: a calibrated bundle generates with it and reports
 * the predictor's recall; a bundle without predictors says to calibrate first.
 */
class PredictedSelectorWiringTest {
    @TempDir
    Path dir;

    private Path bundle() throws Exception {
        Path gguf = new TinyModels(TinySpec.reluLlama(GgmlType.F32, "relu", 0f))
                .writeGguf(dir.resolve("relu.gguf"), TestVocab.spm(320));
        Path bundle = dir.resolve("relu.bundle");
        Converter.convert(gguf, bundle, ConvertOptions.defaults()
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f)).withMinReadBytes(4096));
        return bundle;
    }

    private static LoadOptions options(String selector) {
        return new LoadOptions(1, 64, null).withBundle(BundleOpenOptions.defaults().withSelector(selector)
                .withPredictorSampleRate(1.0));
    }

    @Test
    void calibratedBundleGeneratesWithPredictedAndReportsRecall() throws Exception {
        Path bundle = bundle();
        LoadOptions dense = options("auto");
        int[] tokens;
        try (InferenceModel m = ModelLoader.load(bundle, dense)) {
            assertTrue(((LoadedModel) m).flashStats().orElseThrow().predictorRecall().isEmpty(), "no predictor, no recall");
            assertTrue(((LoadedModel) m).flashStats().orElseThrow().predictorChecks().isEmpty());
            tokens = BundleCalibrator.sampleTokens(m, 300, 64, 7, null);
        }
        assertEquals(300, tokens.length);
        BundleCalibration.Options o = new BundleCalibration.Options(RankPlan.uniform(2, 8),
                TrainOptions.defaults().withRank(8).withEpochs(2), BundleCalibration.Options.defaults(RankPlan.uniform(2, 8)).storage(),
                BundleCalibration.Options.defaults(RankPlan.uniform(2, 8)).traceType(), null, false, 1);
        BundleCalibration.Result r = BundleCalibrator.calibrate(bundle, dense, o, tokens, 64, null);
        assertEquals(2, r.training().reports().size());

        try (InferenceModel m = ModelLoader.load(bundle, options("predicted"))) {
            BundleFeedForward ffn = (BundleFeedForward) ((LoadedModel) m).languageModel().ffn();
            assertInstanceOf(PredictedSelector.class, ffn.selector());
            int[] prompt = m.tokenize("the cat sat", true);
            try (Session s = m.openSession(64)) {
                GenerationResult g = s.generate(prompt, SamplingParams.greedy(8), null);
                assertTrue(g.tokens().length > 0);
            }
            FlashStats stats = ((LoadedModel) m).flashStats().orElseThrow();
            double recall = stats.predictorRecall().orElseThrow();
            // Rate 1: every (token, layer) is checked; a predictor trained for 0.99 recall stays well above chance.
            assertTrue(recall > 0.5 && recall <= 1.0, "recall " + recall);
            assertEquals(1.0, ((PredictedSelector) ffn.selector()).sampler().rate());
            FlashStats.PredictorChecks c = stats.predictorChecks().orElseThrow();
            assertTrue(c.samples() > 0 && c.truePositives() > 0, c.toString());
            assertEquals(recall, (double) c.truePositives() / (c.truePositives() + c.falseNegatives()), 1e-12);
        }
    }

    @Test
    void sampleRateDefaultsToTwoPercentWithResidentGates() throws Exception {
        Path bundle = bundle();
        LoadOptions dense = options("auto");
        try (InferenceModel m = ModelLoader.load(bundle, dense)) {
            BundleCalibrator.calibrate(bundle, dense, new BundleCalibration.Options(RankPlan.uniform(2, 4),
                    TrainOptions.defaults().withRank(4).withEpochs(1), io.flashllm.predictor.format.PredictorFormat.WeightType.F32,
                    io.flashllm.predictor.trace.TraceFormat.XType.F32, null, false, 1), BundleCalibrator.sampleTokens(m, 64, 64, 1, null),
                    64, null);
        }
        LoadOptions auto = new LoadOptions(1, 64, null).withBundle(BundleOpenOptions.defaults().withSelector("predicted"));
        try (InferenceModel m = ModelLoader.load(bundle, auto)) {
            BundleFeedForward ffn = (BundleFeedForward) ((LoadedModel) m).languageModel().ffn();
            assertEquals(BundleOpenOptions.DEFAULT_PREDICTOR_SAMPLE_RATE, ((PredictedSelector) ffn.selector()).sampler().rate());
        }
    }

    @Test
    void predictedOnABundleWithoutPredictorsSaysToCalibrate() throws Exception {
        Path bundle = bundle();
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelLoader.load(bundle, options("predicted")));
        assertTrue(e.getMessage().contains("flashllm calibrate"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        // The path is named once, not once per wrapping layer.
        assertFalse(e.getMessage().startsWith(bundle + ": " + bundle), e.getMessage());
    }

    @Test
    void unknownSelectorListsThePredictedOne() throws Exception {
        Path bundle = bundle();
        ModelFileException e = assertThrows(ModelFileException.class, () -> ModelLoader.load(bundle, options("magic")));
        assertTrue(e.getMessage().contains("predicted"), e.getMessage());
    }
}
