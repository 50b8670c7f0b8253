package io.flashllm.flashstore.bundle;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.Transformer;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bundle-mode logits against the plain model's, whole transformer, for the dense and gate-exact
 * selectors, the bundle loaded through ModelLoader like any model path.
 *
 * <p>Tolerance. With down columns stored exactly (F32) the two FFNs differ only in the order
 * float sums are taken (cache order and thread split vs matrix order), a few float32 ulps per sum
 * that the layers carry on: logits must agree within 3e-5 of their largest magnitude (observed:
 * 2.6e-7 to 2.7e-6). With the default storage a quantized source's down
 * columns are requantized to Q8_0 (half a Q8_0 step per element, see the format decision):
 * logits must agree within 2e-2 of their largest magnitude (observed 3.7e-3 for a Q4_0 model)
 * and pick the same top token.
 */
class BundleLogitsTest {
    static final int[] TOKENS = {1, 17, 250, 3, 99, 42, 42, 7, 300};

    @TempDir
    Path dir;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("relu-llama-f16", TinySpec.reluLlama(GgmlType.F16, "relu", 0f), "gate-exact", ConvertOptions.DownType.AUTO, 3e-5),
                Arguments.of("relu-llama-f16-dense", TinySpec.reluLlama(GgmlType.F16, "relu", 0f), "dense", ConvertOptions.DownType.AUTO, 3e-5),
                Arguments.of("relu-llama-q8-exact-down", TinySpec.reluLlama(GgmlType.Q8_0, "relu", 0f), "gate-exact", ConvertOptions.DownType.F32, 3e-5),
                Arguments.of("relu-llama-q4-q8down", TinySpec.reluLlama(GgmlType.Q4_0, "relu", 0f), "gate-exact", ConvertOptions.DownType.AUTO, 2e-2),
                Arguments.of("fatrelu-llama-bf16", TinySpec.reluLlama(GgmlType.BF16, "fatrelu", 0.1f), "gate-exact", ConvertOptions.DownType.AUTO, 3e-5),
                Arguments.of("silu-llama-q8-dense", TinySpec.llama(GgmlType.Q8_0), "dense", ConvertOptions.DownType.F32, 3e-5),
                Arguments.of("opt-f32-dense", TinySpec.opt(GgmlType.F32, true, 32), "dense", ConvertOptions.DownType.AUTO, 3e-5));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bundleLogitsEqualPlainLogits(String label, TinySpec spec, String selector, ConvertOptions.DownType down,
                                      double relTol) throws Exception {
        Path gguf = new TinyModels(spec).writeGguf(dir.resolve(label + ".gguf"), Map.of());
        LoadOptions opts = LoadOptions.defaults().withThreads(2);
        Path bundle = dir.resolve(label + ".bundle");
        try (LanguageModel plain = ModelLoader.loadLanguageModel(gguf, opts)) {
            Converter.convert(gguf, bundle, ConvertOptions.defaults().withActivation(plain.config().activation())
                    .withDownType(down).withMinReadBytes(4096));
            // The real loading path: ModelLoader recognizes the bundle directory.
            try (LanguageModel viaBundle = ModelLoader.loadLanguageModel(bundle,
                         opts.withBundle(BundleOpenOptions.defaults().withSelector(selector)));
                 Transformer a = plain.newTransformer(32);
                 Transformer b = viaBundle.newTransformer(32)) {
                BundleFeedForward ffn = assertInstanceOf(BundleFeedForward.class, viaBundle.ffn());
                assertEquals(selector, ffn.selector().name());
                double worst = 0;
                for (int p = 0; p < TOKENS.length; p++) {
                    float[] want = a.forward(TOKENS[p], p);
                    float[] got = b.forward(TOKENS[p], p);
                    double max = 0;
                    double diff = 0;
                    int argWant = 0;
                    int argGot = 0;
                    for (int i = 0; i < want.length; i++) {
                        max = Math.max(max, Math.abs(want[i]));
                        diff = Math.max(diff, Math.abs(want[i] - got[i]));
                        if (want[i] > want[argWant]) argWant = i;
                        if (got[i] > got[argGot]) argGot = i;
                    }
                    worst = Math.max(worst, diff / max);
                    assertTrue(diff <= relTol * max + 1e-5, label + " position " + p + ": max |Δlogit| " + diff + " vs max |logit| " + max);
                    assertEquals(argWant, argGot, label + " position " + p + " top token");
                }
                assertTrue(ffn.counters(0).lookups() > 0);
                // The prompt path: all tokens through each layer together (the bundle FFN's forwardBatch).
                try (Transformer pa = plain.newTransformer(32); Transformer pb = viaBundle.newTransformer(32)) {
                    float[] want = pa.forward(TOKENS, 0, TOKENS.length, 0);
                    float[] got = pb.forward(TOKENS, 0, TOKENS.length, 0);
                    double max = 0;
                    double diff = 0;
                    for (int i = 0; i < want.length; i++) {
                        max = Math.max(max, Math.abs(want[i]));
                        diff = Math.max(diff, Math.abs(want[i] - got[i]));
                    }
                    assertTrue(diff <= relTol * max + 1e-5, label + " batched prompt: max |Δlogit| " + diff + " vs " + max);
                }
                System.out.printf("%s: worst max|Δlogit|/max|logit| = %.2e (allowed %.0e)%n", label, worst, relTol);
            }
        }
    }
}
