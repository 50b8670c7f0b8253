package io.flashllm.engine.generate;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.testutil.TestVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.bundle.BundleFeedForward;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.DenseFeedForward;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A flash-bundle directory loads through {@link ModelLoader} like a GGUF file and generates the same text. */
class BundleLoadingTest {
    @TempDir
    Path dir;

    @Test
    void bundleDirectoryGeneratesLikeItsSource() throws Exception {
        Path gguf = new TinyModels(TinySpec.reluLlama(GgmlType.F16, "relu", 0f))
                .writeGguf(dir.resolve("relu.gguf"), TestVocab.spm(320));
        Path bundle = dir.resolve("relu.bundle");
        Converter.convert(gguf, bundle, ConvertOptions.defaults()
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f)).withMinReadBytes(4096));
        LoadOptions opts = LoadOptions.defaults().withThreads(2).withMaxContext(48);
        try (InferenceModel plain = ModelLoader.load(gguf, opts); InferenceModel flash = ModelLoader.load(bundle, opts)) {
            LanguageModel lm = ((LoadedModel) flash).languageModel();
            assertInstanceOf(BundleFeedForward.class, lm.ffn());
            assertInstanceOf(DenseFeedForward.class, ((LoadedModel) plain).languageModel().ffn());
            assertTrue(lm.weights().ffn().isEmpty(), "the FFN matrices stay on flash");
            assertEquals("relu", flash.info().id().replace(".bundle", ""));
            assertEquals(plain.info().parameterCount(), flash.info().parameterCount());
            int[] prompt = plain.tokenize("the cat sat on the mat", true);
            assertArrayEquals(prompt, flash.tokenize("the cat sat on the mat", true));
            try (Session a = plain.openSession(48); Session b = flash.openSession(48)) {
                GenerationResult ra = a.generate(prompt, SamplingParams.greedy(10), null);
                GenerationResult rb = b.generate(prompt, SamplingParams.greedy(10), null);
                assertArrayEquals(ra.tokens(), rb.tokens());
            }
        }
    }
}
