package io.flashllm.engine.generate;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.flashstore.ffn.FfnActivation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models written by the synth tool (another author's writer, vocabulary and HF conversion) load
 * through both loaders and generate the same greedy continuation from GGUF and from HF.
 */
class SynthModelsTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = SynthArch.class, names = {"GEMMA2", "GEMMA3", "PHI3", "GRANITE", "GPT_OSS"},
            mode = EnumSource.Mode.EXCLUDE)
    void ggufAndHfGenerateAlike(SynthArch arch) throws Exception {
        int kvHeads = arch == SynthArch.OPT ? 4 : 2;
        Float sparsity = arch == SynthArch.LLAMA_RELU ? 0.8f : null;
        SynthSpec gguf = new SynthSpec(arch, 64, 2, 4, kvHeads, 128, 400, SynthType.F32, SynthFormat.GGUF, 5L,
                sparsity, 128, "s");
        SynthSpec hf = new SynthSpec(arch, 64, 2, 4, kvHeads, 128, 400, SynthType.F32, SynthFormat.HF, 5L,
                sparsity, 128, "s");
        Path g = dir.resolve("s.gguf");
        Path h = dir.resolve("s-hf");
        Synth.synthesize(gguf, g, 1);
        Synth.synthesize(hf, h, 1);
        LoadOptions opts = LoadOptions.defaults().withThreads(2).withMaxContext(64);
        try (InferenceModel a = ModelLoader.load(g, opts); InferenceModel b = ModelLoader.load(h, opts)) {
            assertEquals(a.info().vocabSize(), b.info().vocabSize());
            assertEquals(a.info().parameterCount(), b.info().parameterCount());
            if (arch == SynthArch.LLAMA_RELU) {
                FfnActivation act = ((LoadedModel) a).languageModel().config().activation();
                assertEquals(FfnActivation.Kind.GATED_FATRELU, act.kind());
                assertEquals(act, ((LoadedModel) b).languageModel().config().activation());
            }
            String text = "hello world, the cat sat";
            int[] prompt = a.tokenize(text, true);
            assertArrayEquals(prompt, b.tokenize(text, true), "both tokenizers agree");
            try (Session sa = a.openSession(64); Session sb = b.openSession(64)) {
                GenerationResult ra = sa.generate(prompt, SamplingParams.greedy(12), null);
                GenerationResult rb = sb.generate(prompt, SamplingParams.greedy(12), null);
                assertArrayEquals(ra.tokens(), rb.tokens());
                assertEquals(ra.text(), rb.text());
                assertTrue(ra.tokens().length == 12 || ra.finishReason() == FinishReason.STOP);
            }
        }
    }

    /**
     * Gemma 2 and 3 (heads wider than dim / heads, more layers than one window pattern), Phi-3 (fused
     * matrices) and Granite (scalars), GGUF only: load and generate.
     */
    @ParameterizedTest
    @EnumSource(value = SynthArch.class, names = {"GEMMA2", "GEMMA3", "PHI3", "GRANITE"})
    void ggufOnlyArchitecturesLoadAndGenerate(SynthArch arch) throws Exception {
        boolean gemma = arch.gemma();
        SynthSpec spec = new SynthSpec(arch, 64, 7, 4, 1, 128, 400, SynthType.Q8_0, SynthFormat.GGUF, 5L,
                null, 128, "g", gemma ? 32 : 0);
        Path g = dir.resolve("g.gguf");
        Synth.synthesize(spec, g, 1);
        try (InferenceModel m = ModelLoader.load(g, LoadOptions.defaults().withThreads(2).withMaxContext(64))) {
            var c = ((LoadedModel) m).languageModel().config();
            assertEquals(arch.cliName, m.info().architecture());
            assertEquals(gemma ? FfnActivation.Kind.GATED_GELU : FfnActivation.Kind.GATED_SILU, c.activation().kind());
            assertEquals(gemma ? 32 : 16, c.headDim());
            assertEquals(gemma, ((LoadedModel) m).languageModel().weights().tiedEmbeddings());
            assertEquals(arch == SynthArch.GRANITE, c.multipliers().any(), "Granite's scalars read back");
            try (Session s = m.openSession(64)) {
                GenerationResult r = s.generate(m.tokenize("hello world", true), SamplingParams.greedy(6), null);
                assertTrue(r.tokens().length > 0);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new SynthSpec(arch, 64, 2, 4, 1, 128, 400,
                SynthType.F32, SynthFormat.HF, 5L, null, 128, "g"));
        assertThrows(IllegalArgumentException.class, () -> new SynthSpec(SynthArch.LLAMA, 64, 2, 4, 1, 128, 400,
                SynthType.F32, SynthFormat.GGUF, 5L, null, 128, "l", 32));
    }

    /**
     * Mixtures of experts (GGUF only): Qwen3-MoE and Mixtral, the latter also with a single expert, which GGUF
     * writes without its third dimension, and gpt-oss as its files come (experts MXFP4); each loads with its
     * routing and every tensor written (gpt-oss's biases and sinks among them), and generates, in Q4_K_M's mix too.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"QWEN3, 4, 2, Q8_0, qwen3moe", "LLAMA, 4, 2, Q4_K_M, llama",
            "LLAMA, 1, 1, F32, llama", "GRANITE, 4, 2, Q8_0, granitemoe", "GPT_OSS, 4, 2, MXFP4, gpt-oss"})
    void mixturesOfExpertsLoadAndGenerate(SynthArch arch, int experts, int used, SynthType type, String ggufArch)
            throws Exception {
        SynthSpec spec = new SynthSpec(arch, 256, 2, 4, 2, 256, 400, type, SynthFormat.GGUF, 5L, null, 128, "moe",
                arch == SynthArch.QWEN3 ? 64 : 0, experts, used);
        Path g = dir.resolve("moe.gguf");
        var written = Synth.synthesize(spec, g, 1);
        try (InferenceModel m = ModelLoader.load(g, LoadOptions.defaults().withThreads(2).withMaxContext(64))) {
            var c = ((LoadedModel) m).languageModel().config();
            assertEquals(ggufArch, m.info().architecture());
            assertEquals(new io.flashllm.flashstore.ffn.ExpertRouting(experts, used, true), c.experts());
            assertEquals(written.parameters(), m.info().parameterCount());
            try (Session s = m.openSession(64)) {
                GenerationResult r = s.generate(m.tokenize("hello world", true), SamplingParams.greedy(6), null);
                assertTrue(r.tokens().length > 0);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new SynthSpec(arch, 64, 2, 4, 1, 128, 400,
                SynthType.F32, SynthFormat.HF, 5L, null, 128, "g", 0, 4, 2), "HF with experts");
        assertThrows(IllegalArgumentException.class, () -> new SynthSpec(arch, 64, 2, 4, 1, 128, 400,
                SynthType.F32, SynthFormat.GGUF, 5L, null, 128, "g", 0, 4, 5), "more used than there are");
        assertThrows(IllegalArgumentException.class, () -> new SynthSpec(SynthArch.GEMMA3, 64, 2, 4, 1, 128, 400,
                SynthType.F32, SynthFormat.GGUF, 5L, null, 128, "g", 0, 4, 2), "gemma has no experts here");
    }
}
