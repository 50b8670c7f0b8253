package io.flashllm.engine.model;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
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

import static io.flashllm.engine.model.TransformerVsReferenceTest.TOKENS;
import static io.flashllm.engine.model.TransformerVsReferenceTest.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One model written as GGUF and as a Hugging Face directory gives the same logits through both
 * loaders. For Llama this checks the RoPE conventions: GGUF q/k rows are permuted for adjacent
 * pairs, HF's are not, and each must be rotated its own way.
 */
class GgufVsHfTest {
    @TempDir
    Path dir;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("llama", TinySpec.llama(GgmlType.Q8_0), RopeStyle.INTERLEAVED),
                Arguments.of("llama-fatrelu", TinySpec.reluLlama(GgmlType.F16, "fatrelu", 0.1f), RopeStyle.INTERLEAVED),
                Arguments.of("qwen2", TinySpec.qwen2(GgmlType.Q4_0), RopeStyle.HALF_SPLIT),
                Arguments.of("qwen2-bf16", TinySpec.qwen2(GgmlType.BF16), RopeStyle.HALF_SPLIT),
                Arguments.of("qwen3", TinySpec.qwen3(GgmlType.Q8_0), RopeStyle.HALF_SPLIT),
                Arguments.of("mixtral", TinySpec.mixtral(GgmlType.Q8_0), RopeStyle.INTERLEAVED),
                Arguments.of("qwen3moe", TinySpec.qwen3moe(GgmlType.F16), RopeStyle.HALF_SPLIT),
                Arguments.of("granite", TinySpec.granite(GgmlType.Q8_0), RopeStyle.INTERLEAVED),
                Arguments.of("opt", TinySpec.opt(GgmlType.F32, true, 32), RopeStyle.NONE),
                Arguments.of("opt-postnorm", TinySpec.opt(GgmlType.F16, false, 64), RopeStyle.NONE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void sameLogitsThroughBothLoaders(String label, TinySpec spec, RopeStyle ggufRope) throws Exception {
        TinyModels tiny = new TinyModels(spec);
        Path gguf = tiny.writeGguf(dir.resolve(label + ".gguf"), Map.of());
        Path hf = tiny.writeHf(dir.resolve(label + "-hf"), null);
        LoadOptions opts = LoadOptions.defaults().withThreads(2).withKvCacheType(KvCacheType.F32);
        try (LanguageModel a = ModelLoader.loadLanguageModel(gguf, opts);
             LanguageModel b = ModelLoader.loadLanguageModel(hf, opts);
             Transformer ta = a.newTransformer(16);
             Transformer tb = b.newTransformer(16)) {
            assertEquals(ggufRope, a.config().rope().style());
            assertEquals(spec.opt() ? RopeStyle.NONE : RopeStyle.HALF_SPLIT, b.config().rope().style());
            assertEquals(a.config().activation(), b.config().activation());
            assertEquals(a.weights().parameterCount(), b.weights().parameterCount());
            for (int p = 0; p < TOKENS.length; p++) {
                assertClose(ta.forward(TOKENS[p], p), tb.forward(TOKENS[p], p), label + " position " + p);
            }
        }
    }
}
