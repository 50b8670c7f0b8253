package io.flashllm.flashstore.bundle;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.model.GgufConfigs;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.model.OpenedModelFile;
import io.flashllm.engine.model.TensorNames;
import io.flashllm.engine.model.TensorSource;
import io.flashllm.engine.model.Transformer;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bundle-mode logits against the plain model's, whole transformer, for the dense and gate-exact
 * selectors. The transformer is built from the bundle's resident.gguf with the bundle FFN.
 *
 * <p>Tolerance. With down columns stored exactly (F32) the two FFNs differ only in the order
 * float sums are taken (cache order vs matrix order): logits must agree within 1e-5 of their largest
 * magnitude (observed: 2.5e-7 to 3.7e-7). With the default storage a quantized source's down
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
                Arguments.of("relu-llama-f16", TinySpec.reluLlama(GgmlType.F16, "relu", 0f), "gate-exact", ConvertOptions.DownType.AUTO, 1e-5),
                Arguments.of("relu-llama-f16-dense", TinySpec.reluLlama(GgmlType.F16, "relu", 0f), "dense", ConvertOptions.DownType.AUTO, 1e-5),
                Arguments.of("relu-llama-q8-exact-down", TinySpec.reluLlama(GgmlType.Q8_0, "relu", 0f), "gate-exact", ConvertOptions.DownType.F32, 1e-5),
                Arguments.of("relu-llama-q4-q8down", TinySpec.reluLlama(GgmlType.Q4_0, "relu", 0f), "gate-exact", ConvertOptions.DownType.AUTO, 2e-2),
                Arguments.of("fatrelu-llama-bf16", TinySpec.reluLlama(GgmlType.BF16, "fatrelu", 0.1f), "gate-exact", ConvertOptions.DownType.AUTO, 1e-5),
                Arguments.of("silu-llama-q8-dense", TinySpec.llama(GgmlType.Q8_0), "dense", ConvertOptions.DownType.F32, 1e-5),
                Arguments.of("opt-f32-dense", TinySpec.opt(GgmlType.F32, true, 32), "dense", ConvertOptions.DownType.AUTO, 1e-5));
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
            BundleModel bm = BundleModel.open(bundle, BundleOpenOptions.defaults().withSelector(selector));
            try (Arena arena = Arena.ofShared();
                 LanguageModel viaBundle = ModelLoader.assemble(residentFile(bm, arena), opts, (c, w, p) -> bm.feedForward(p));
                 Transformer a = plain.newTransformer(32);
                 Transformer b = viaBundle.newTransformer(32)) {
                assertEquals(selector, bm.feedForward().selector().name());
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
                assertTrue(bm.feedForward().counters(0).lookups() > 0);
                System.out.printf("%s: worst max|Δlogit|/max|logit| = %.2e (allowed %.0e)%n", label, worst, relTol);
            } finally {
                bm.close();
            }
        }
    }

    /**
     * The model file as the loader sees it: resident.gguf's tensors and metadata. The model's weight
     * loader still insists on FFN matrices it will not use when another FFN is supplied, so the
     * moved tensors are answered with zero-filled stand-ins of the right shape; the FFN that runs
     * is the bundle's.
     */
    private static OpenedModelFile residentFile(BundleModel bm, Arena arena) {
        GgufFile res = bm.gguf();
        Path path = bm.dir();
        ModelConfig config = GgufConfigs.fromMetadata(res.metadata(), path);
        Set<String> moved = new HashSet<>();
        for (List<String> l : bm.manifest().layout().movedTensors()) for (String n : l) if (n != null) moved.add(n);
        int dim = bm.manifest().model().dim();
        int ffn = bm.manifest().model().ffnDim();
        TensorSource tensors = new TensorSource() {
            @Override
            public WeightTensor tensor(String name) {
                WeightTensor t = res.tensor(name);
                if (t != null || !moved.contains(name)) return t;
                long[] shape = name.contains("ffn_down") ? new long[] {ffn, dim} : new long[] {dim, ffn};
                return new WeightTensor(name, GgmlType.F32, shape, arena.allocate(4L * dim * ffn));
            }

            @Override
            public Path path() {
                return path;
            }
        };
        return new OpenedModelFile(path, config, tensors, TensorNames.gguf(), res.metadata(), null, () -> {});
    }
}
