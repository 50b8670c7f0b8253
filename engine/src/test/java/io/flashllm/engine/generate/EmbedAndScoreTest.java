package io.flashllm.engine.generate;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.GenerationListener;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.Pooling;
import io.flashllm.engine.api.PromptLogprobs;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.model.KvCacheType;
import io.flashllm.engine.testutil.ReferenceForward;
import io.flashllm.engine.testutil.TestVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Session embeddings and prompt scores against the plain reference forward pass (its final hidden states pooled by hand, its logits). */
class EmbedAndScoreTest {
    static final int CONTEXT = 160;
    static final LoadOptions OPTIONS = LoadOptions.defaults().withThreads(2).withKvCacheType(KvCacheType.F32)
            .withMaxContext(CONTEXT);

    @TempDir
    Path dir;

    /** 100 tokens: more than one prompt chunk (64), so pooling runs across chunks. */
    static int[] tokens(int n, int vocab) {
        int[] t = new int[n];
        t[0] = 1;
        for (int i = 1; i < n; i++) t[i] = 3 + (i * 37) % (vocab - 3);
        return t;
    }

    static TinySpec withContext(TinySpec s, int context) {
        return s.withContext(context);
    }

    static Stream<Arguments> models() {
        List<Arguments> out = new ArrayList<>();
        out.add(Arguments.of("llama-q8_0", TinySpec.llama(GgmlType.Q8_0)));
        out.add(Arguments.of("llama-f32", TinySpec.llama(GgmlType.F32)));
        out.add(Arguments.of("qwen2", TinySpec.qwen2(GgmlType.Q8_0)));
        out.add(Arguments.of("qwen3", TinySpec.qwen3(GgmlType.Q8_0)));
        // 100 tokens in chunks of 64: the Gemmas' windows of 3 and the global layers all count.
        out.add(Arguments.of("gemma2", TinySpec.gemma2(GgmlType.Q8_0)));
        out.add(Arguments.of("gemma3", TinySpec.gemma3(GgmlType.Q8_0)));
        out.add(Arguments.of("phi3", TinySpec.phi3(GgmlType.Q8_0)));
        out.add(Arguments.of("opt-projected", TinySpec.opt(GgmlType.F16, true, 32)));
        out.add(Arguments.of("opt-postnorm", TinySpec.opt(GgmlType.F16, false, 64)));
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void poolsTheReferenceHiddenStates(String label, TinySpec tiny) throws Exception {
        TinySpec spec = withContext(tiny, CONTEXT);
        Path file = new TinyModels(spec).writeGguf(dir.resolve(label + ".gguf"), TestVocab.spm(spec.vocab()));
        int[] toks = tokens(100, spec.vocab());
        float[][] hidden;
        try (GgufFile gguf = GgufFile.open(file)) {
            hidden = new ReferenceForward(spec, gguf::tensor).hiddenStates(toks);
        }
        float[] mean = new float[hidden[0].length];
        for (float[] h : hidden) for (int i = 0; i < mean.length; i++) mean[i] += h[i] / toks.length;

        try (InferenceModel model = ModelLoader.load(file, OPTIONS); Session s = model.openSession(CONTEXT)) {
            assertClose(hidden[toks.length - 1], s.embed(toks, Pooling.LAST, null), label + " last");
            assertClose(hidden[0], s.embed(toks, Pooling.CLS, null), label + " cls");
            assertClose(mean, s.embed(toks, Pooling.MEAN, null), label + " mean");
            // A one-token input is all three.
            int[] one = {toks[0]};
            assertClose(hidden[0], s.embed(one, Pooling.MEAN, null), label + " one token");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void scoringAPromptMatchesTheReferenceLogits(String label, TinySpec tiny) throws Exception {
        TinySpec spec = withContext(tiny, CONTEXT);
        Path file = new TinyModels(spec).writeGguf(dir.resolve(label + ".gguf"), TestVocab.spm(spec.vocab()));
        int[] toks = tokens(100, spec.vocab());
        float[][] logits;
        try (GgufFile gguf = GgufFile.open(file)) {
            logits = new ReferenceForward(spec, gguf::tensor).run(toks);
        }
        try (InferenceModel model = ModelLoader.load(file, OPTIONS); Session s = model.openSession(CONTEXT)) {
            PromptLogprobs scores = s.scorePrompt(toks, 3, null);
            assertTrue(Float.isNaN(scores.logprobs()[0]));
            for (int i = 1; i < toks.length; i++) {
                float[] row = logits[i - 1];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (float x : row) max = Math.max(max, x);
                for (float x : row) sum += Math.exp(x - max);
                double expected = row[toks[i]] - max - Math.log(sum);
                assertEquals(expected, scores.logprobs()[i], 2e-3 * (1 + Math.abs(expected)), label + " position " + i);
                int best = 0;
                for (int v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
                assertEquals(3, scores.topIds()[i].length);
                assertEquals(row[best] - max - Math.log(sum), scores.topLogprobs()[i][0], 2e-3 * (1 + Math.abs(row[best] - max)),
                        label + " best at " + i);
            }
            // The cache holds the prompt: generating from it runs only the last token again.
            assertEquals(toks.length - 1, s.reusablePrefix(toks));
        }
    }

    @Test
    void theCacheHoldsTheInputAfterwards() throws Exception {
        Path file = new TinyModels(withContext(TinySpec.llama(GgmlType.Q8_0), CONTEXT))
                .writeGguf(dir.resolve("tiny.gguf"), TestVocab.spm(320));
        int[] toks = tokens(70, 320);
        try (InferenceModel model = ModelLoader.load(file, OPTIONS);
             Session embedded = model.openSession(CONTEXT); Session fresh = model.openSession(CONTEXT)) {
            List<int[]> progress = new ArrayList<>();
            GenerationListener listener = new GenerationListener() {
                @Override
                public boolean onToken(io.flashllm.engine.api.GeneratedToken token) {
                    throw new AssertionError("embedding generates no tokens");
                }

                @Override
                public void onPromptProgress(int done, int total) {
                    progress.add(new int[] {done, total});
                }
            };
            embedded.embed(toks, Pooling.LAST, listener);
            assertEquals(2, progress.size());
            assertArrayEquals(new int[] {64, 70}, progress.get(0));
            assertArrayEquals(new int[] {70, 70}, progress.get(1));
            assertEquals(70, embedded.heldTokens());
            assertEquals(69, embedded.reusablePrefix(toks));
            GenerationResult a = embedded.generate(toks, SamplingParams.greedy(8), null);
            GenerationResult b = fresh.generate(toks, SamplingParams.greedy(8), null);
            assertEquals(69, a.cachedPromptTokens());
            assertArrayEquals(b.tokens(), a.tokens());
        }
    }

    @Test
    void refusesInputsItCannotRun() throws Exception {
        Path file = new TinyModels(TinySpec.llama(GgmlType.Q8_0)).writeGguf(dir.resolve("tiny.gguf"), TestVocab.spm(320));
        try (InferenceModel model = ModelLoader.load(file, OPTIONS.withMaxContext(32)); Session s = model.openSession(32)) {
            assertEquals("nothing to embed: no tokens",
                    assertThrows(IllegalArgumentException.class, () -> s.embed(new int[0], Pooling.MEAN, null)).getMessage());
            assertEquals("the input has 33 tokens; the context holds 32",
                    assertThrows(IllegalArgumentException.class, () -> s.embed(new int[33], Pooling.MEAN, null)).getMessage());
            assertEquals("input token 320 outside the vocabulary of 320",
                    assertThrows(IllegalArgumentException.class, () -> s.embed(new int[] {1, 320}, Pooling.MEAN, null)).getMessage());
            // A whole context is fine for an embedding (nothing is generated after it).
            assertEquals(64, s.embed(new int[32], Pooling.LAST, null).length);
        }
    }

    @Test
    void poolingDeclaredByTheFileSurvivesConversionAndTheBundleEmbedsAlike() throws Exception {
        Map<String, Object> md = new HashMap<>(TestVocab.spm(320));
        md.put(Pooling.ggufKey("llama"), 3);
        TinySpec spec = TinySpec.reluLlama(GgmlType.F16, "relu", 0f);
        Path gguf = new TinyModels(spec).writeGguf(dir.resolve("relu.gguf"), md);
        Path plainFile = new TinyModels(spec).writeGguf(dir.resolve("plain.gguf"), TestVocab.spm(320));
        Path bundle = dir.resolve("relu.bundle");
        Converter.convert(gguf, bundle, ConvertOptions.defaults()
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f)).withMinReadBytes(4096));
        LoadOptions opts = OPTIONS.withMaxContext(48);
        try (InferenceModel plain = ModelLoader.load(gguf, opts); InferenceModel flash = ModelLoader.load(bundle, opts);
             InferenceModel undeclared = ModelLoader.load(plainFile, opts)) {
            assertEquals(Pooling.LAST, plain.declaredPooling());
            assertEquals(Pooling.LAST, flash.declaredPooling());
            assertNull(undeclared.declaredPooling());
            int[] toks = plain.tokenize("the cat sat on the mat", true);
            try (Session a = plain.openSession(48); Session b = flash.openSession(48)) {
                assertClose(a.embed(toks, Pooling.MEAN, null), b.embed(toks, Pooling.MEAN, null), "bundle mean");
            }
        }
    }

    @Test
    void poolingNames() {
        assertEquals(Pooling.MEAN, Pooling.parse("Mean"));
        assertEquals(Pooling.CLS, Pooling.parse("cls"));
        assertEquals(Pooling.LAST, Pooling.parse("LAST"));
        assertEquals("pooling 'max' is not one of mean, cls, last",
                assertThrows(IllegalArgumentException.class, () -> Pooling.parse("max")).getMessage());
        assertNull(Pooling.declaredIn(Map.of("general.architecture", "llama", "llama.pooling_type", 0)));
        assertNull(Pooling.declaredIn(Map.of("general.architecture", "llama", "llama.pooling_type", 4)));
        assertEquals(Pooling.MEAN, Pooling.declaredIn(Map.of("general.architecture", "qwen2", "qwen2.pooling_type", 1)));
        assertEquals(Pooling.CLS, Pooling.declaredIn(Map.of("general.architecture", "qwen2", "qwen2.pooling_type", 2L)));
        assertNull(Pooling.declaredIn(Map.of("general.architecture", "qwen2", "llama.pooling_type", 1)));
        assertNull(Pooling.declaredIn(null));
        assertEquals(Pooling.MEAN, Pooling.resolve(Pooling.MEAN, Pooling.CLS), "asked for wins");
        assertEquals(Pooling.CLS, Pooling.resolve(null, Pooling.CLS), "then the model's");
        assertEquals(Pooling.LAST, Pooling.resolve(null, null), "then the last token's");
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": width");
        double err = 0, scale = 1e-3;
        for (int i = 0; i < expected.length; i++) {
            err = Math.max(err, Math.abs(expected[i] - actual[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        double tol = 1e-3 * scale + 1e-5;
        assertTrue(err <= tol, what + ": max error " + err + " > " + tol);
    }
}
