package io.flashllm.engine.model;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.testutil.ReferenceForward;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole-model logits of the engine against the plain reference forward pass, per architecture and weight type. */
class TransformerVsReferenceTest {
    // Nine positions: past Gemma 3's window of 3 in the tiny model, so windowed and global layers differ.
    static final int[] TOKENS = {1, 17, 250, 3, 99, 42, 42, 7, 300};
    static final LoadOptions OPTIONS = LoadOptions.defaults().withThreads(2).withKvCacheType(KvCacheType.F32);

    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        List<Arguments> out = new ArrayList<>();
        for (GgmlType t : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
                GgmlType.Q5_0, GgmlType.Q5_1}) {
            out.add(Arguments.of("llama", TinySpec.llama(t)));
            out.add(Arguments.of("llama-relu", TinySpec.reluLlama(t, "relu", 0f)));
            out.add(Arguments.of("llama-fatrelu", TinySpec.reluLlama(t, "fatrelu", 0.15f)));
            out.add(Arguments.of("qwen2", TinySpec.qwen2(t)));
            out.add(Arguments.of("qwen3", TinySpec.qwen3(t)));
            out.add(Arguments.of("gemma3", TinySpec.gemma3(t)));
            out.add(Arguments.of("gemma2", TinySpec.gemma2(t)));
            out.add(Arguments.of("phi3", TinySpec.phi3(t)));
            out.add(Arguments.of("mixtral", TinySpec.mixtral(t)));
            out.add(Arguments.of("qwen3moe", TinySpec.qwen3moe(t)));
            out.add(Arguments.of("granite", TinySpec.granite(t)));
            out.add(Arguments.of("granitemoe", TinySpec.granitemoe(t)));
            out.add(Arguments.of("gpt-oss", TinySpec.gptOss(t)));
            out.add(Arguments.of("mistral-window", TinySpec.llama(t).withWindow(3)));
            out.add(Arguments.of("opt", TinySpec.opt(t, true, 64)));
            out.add(Arguments.of("opt-projected", TinySpec.opt(t, true, 32)));
            out.add(Arguments.of("opt-postnorm", TinySpec.opt(t, false, 64)));
        }
        out.add(Arguments.of("llama-q4k", TinySpec.wideLlama(GgmlType.Q4_K)));
        out.add(Arguments.of("llama-q5k", TinySpec.wideLlama(GgmlType.Q5_K)));
        out.add(Arguments.of("llama-q6k", TinySpec.wideLlama(GgmlType.Q6_K)));
        out.add(Arguments.of("llama-q2k", TinySpec.wideLlama(GgmlType.Q2_K)));
        out.add(Arguments.of("llama-q3k", TinySpec.wideLlama(GgmlType.Q3_K)));
        out.add(Arguments.of("llama-iq4nl", TinySpec.llama(GgmlType.IQ4_NL)));
        out.add(Arguments.of("llama-iq4xs", TinySpec.wideLlama(GgmlType.IQ4_XS)));
        // gpt-oss's own encoding of its experts (here every matrix: the attention's products run the MXFP4 kernels too).
        out.add(Arguments.of("gpt-oss-mxfp4", TinySpec.gptOss(GgmlType.MXFP4)));
        out.add(Arguments.of("mixtral-mxfp4", TinySpec.mixtral(GgmlType.MXFP4)));
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("models")
    void logitsMatchReference(String label, TinySpec spec) throws Exception {
        Path file = new TinyModels(spec).writeGguf(dir.resolve(label + ".gguf"), Map.of());
        float[][] expected;
        try (GgufFile gguf = GgufFile.open(file)) {
            expected = new ReferenceForward(spec, gguf::tensor).run(TOKENS);
        }
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS);
             Transformer t = model.newTransformer(32);
             Transformer batched = model.newTransformer(32)) {
            for (int p = 0; p < TOKENS.length; p++) {
                assertClose(expected[p], t.forward(TOKENS[p], p), label + " position " + p);
            }
            // The prompt path: all tokens through the layers together (matmul, causal attention in one go).
            assertClose(expected[TOKENS.length - 1], batched.forward(TOKENS, 0, TOKENS.length, 0), label + " batched");
        }
    }

    @Test
    void llama3RopeFrequencyFactorsFromTheFile() throws Exception {
        TinySpec spec = TinySpec.llama(GgmlType.F32);
        float[] factors = new float[spec.headDim() / 2];
        for (int i = 0; i < factors.length; i++) factors[i] = 1f + i * 0.7f;
        Path file = new TinyModels(spec).withRopeFactors(factors).writeGguf(dir.resolve("l3.gguf"), Map.of());
        float[][] expected;
        try (GgufFile gguf = GgufFile.open(file)) {
            expected = new ReferenceForward(spec, gguf::tensor).run(TOKENS);
        }
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS);
             Transformer t = model.newTransformer(32)) {
            assertArrayEqualsF(factors, model.config().rope().freqFactors());
            for (int p = 0; p < TOKENS.length; p++) assertClose(expected[p], t.forward(TOKENS[p], p), "p" + p);
        }
    }

    @Test
    void concurrentSequencesDoNotDisturbEachOther() throws Exception {
        Path file = new TinyModels(TinySpec.qwen2(GgmlType.Q4_0)).writeGguf(dir.resolve("c.gguf"), Map.of());
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS)) {
            float[] alone;
            try (Transformer t = model.newTransformer(16)) {
                alone = t.forward(TOKENS, 0, TOKENS.length, 0).clone();
            }
            float[][] got = new float[4][];
            Thread[] threads = new Thread[4];
            for (int i = 0; i < threads.length; i++) {
                int id = i;
                threads[i] = Thread.ofPlatform().start(() -> {
                    try (Transformer t = model.newTransformer(16)) {
                        float[] logits = null;
                        for (int p = 0; p < TOKENS.length; p++) logits = t.forward(TOKENS[p], p);
                        got[id] = logits.clone();
                    }
                });
            }
            for (Thread t : threads) t.join();
            for (float[] g : got) assertClose(alone, g, "concurrent");
        }
    }

    @Test
    void ffnWrapperSeesEveryLayerOfEveryToken() throws Exception {
        TinySpec spec = TinySpec.reluLlama(GgmlType.Q8_0, "relu", 0f);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("w.gguf"), Map.of());
        int[] calls = new int[spec.layers()];
        float[][] lastInput = new float[spec.layers()][];
        try (LanguageModel plain = ModelLoader.loadLanguageModel(file, OPTIONS);
             LanguageModel traced = ModelLoader.loadLanguageModel(file, OPTIONS, inner -> (layer, x, out) -> {
                 calls[layer]++;
                 lastInput[layer] = x.clone();
                 inner.forward(layer, x, out);
             });
             Transformer a = plain.newTransformer(16);
             Transformer b = traced.newTransformer(16)) {
            for (int p = 0; p < 4; p++) assertClose(a.forward(TOKENS[p], p), b.forward(TOKENS[p], p), "p" + p);
            assertArrayEqualsI(new int[] {4, 4}, calls);
            assertEquals(spec.dim(), lastInput[1].length);
        }
    }

    static void assertArrayEqualsI(int[] a, int[] b) {
        assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b));
    }

    static void assertArrayEqualsF(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-6f);
    }

    @Test
    void promptBatchEqualsTokenByToken() throws Exception {
        TinySpec spec = TinySpec.qwen2(GgmlType.Q8_0);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("q.gguf"), Map.of());
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS);
             Transformer a = model.newTransformer(32);
             Transformer b = model.newTransformer(32)) {
            float[] single = null;
            for (int p = 0; p < TOKENS.length; p++) single = a.forward(TOKENS[p], p).clone();
            float[] batched = b.forward(TOKENS, 0, TOKENS.length, 0);
            assertClose(single, batched, "batched prompt");
            // The cache the batch left behind continues the sequence like the single-token one.
            assertClose(a.forward(5, TOKENS.length), b.forward(5, TOKENS.length), "after batch");
        }
    }

    @Test
    void sparseFfnSkipsSilentNeuronsWithoutChangingLogits() throws Exception {
        // A high FATReLU threshold silences most neurons; the reference computes every neuron.
        TinySpec spec = TinySpec.reluLlama(GgmlType.F32, "fatrelu", 0.6f);
        Path file = new TinyModels(spec).writeGguf(dir.resolve("f.gguf"), Map.of());
        float[][] expected;
        try (GgufFile gguf = GgufFile.open(file)) {
            expected = new ReferenceForward(spec, gguf::tensor).run(TOKENS);
        }
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS);
             Transformer t = model.newTransformer(16)) {
            for (int p = 0; p < TOKENS.length; p++) assertClose(expected[p], t.forward(TOKENS[p], p), "p" + p);
        }
    }

    @Test
    void thresholdOptionTurnsReluIntoFatrelu() throws Exception {
        TinySpec relu = TinySpec.reluLlama(GgmlType.F32, "relu", 0f);
        TinySpec fat = TinySpec.reluLlama(GgmlType.F32, "fatrelu", 0.3f);
        Path file = new TinyModels(relu).writeGguf(dir.resolve("r.gguf"), Map.of());
        float[][] expected;
        try (GgufFile gguf = GgufFile.open(file)) {
            expected = new ReferenceForward(fat, gguf::tensor).run(TOKENS);
        }
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS.withFatreluThreshold(0.3f));
             Transformer t = model.newTransformer(16)) {
            assertEquals(0.3f, model.config().activation().threshold());
            for (int p = 0; p < TOKENS.length; p++) assertClose(expected[p], t.forward(TOKENS[p], p), "p" + p);
        }
    }

    @Test
    void badTokensAndPositionsAreRefused() throws Exception {
        Path file = new TinyModels(TinySpec.llama(GgmlType.F32)).writeGguf(dir.resolve("l.gguf"), Map.of());
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS);
             Transformer t = model.newTransformer(4)) {
            assertThrows(IllegalArgumentException.class, () -> t.forward(320, 0));
            assertThrows(IllegalArgumentException.class, () -> t.forward(-1, 0));
            assertThrows(IllegalArgumentException.class, () -> t.forward(1, 4));
            assertThrows(IllegalArgumentException.class, () -> t.forward(new int[] {1, 2, 3}, 0, 3, 2));
            assertEquals(4, t.contextLength());
        }
    }

    @Test
    void f16KvCacheStaysClose() throws Exception {
        kvCacheStaysClose(TinySpec.llama(GgmlType.F32), KvCacheType.F16, 2e-2);
    }

    @Test
    void q8_0KvCacheStaysClose() throws Exception {
        kvCacheStaysClose(TinySpec.wideLlama(GgmlType.F32), KvCacheType.Q8_0, 3e-2); // heads of 32: one Q8_0 block each
        // The small model's heads have 16 values: a Q8_0 cache is refused when the model loads.
        Path small = new TinyModels(TinySpec.llama(GgmlType.F32)).writeGguf(dir.resolve("small.gguf"), Map.of());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelLoader.loadLanguageModel(small, OPTIONS.withKvCacheType(KvCacheType.Q8_0)).close());
        assertTrue(e.getMessage().contains("--kv-type f16"), e.getMessage());
    }

    /** Every position's logits within {@code tolerance} of the largest, against the F32 reference forward pass. */
    private void kvCacheStaysClose(TinySpec spec, KvCacheType type, double tolerance) throws Exception {
        Path file = new TinyModels(spec).writeGguf(dir.resolve(type + "-kv.gguf"), Map.of());
        float[][] expected;
        try (GgufFile gguf = GgufFile.open(file)) {
            expected = new ReferenceForward(spec, gguf::tensor).run(TOKENS);
        }
        try (LanguageModel model = ModelLoader.loadLanguageModel(file, OPTIONS.withKvCacheType(type));
             Transformer t = model.newTransformer(16)) {
            for (int p = 0; p < TOKENS.length; p++) {
                float[] got = t.forward(TOKENS[p], p);
                double err = maxError(expected[p], got);
                assertTrue(err < tolerance * scale(expected[p]), type + " p" + p + ": " + err);
            }
        }
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": logit count");
        double err = maxError(expected, actual);
        double tol = 1e-3 * scale(expected) + 1e-5;
        assertTrue(err <= tol, what + ": max error " + err + " > " + tol);
    }

    static double maxError(float[] a, float[] b) {
        double err = 0;
        for (int i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]));
        return err;
    }

    static double scale(float[] a) {
        double m = 0;
        for (float f : a) m = Math.max(m, Math.abs(f));
        return Math.max(m, 1e-3);
    }
}
