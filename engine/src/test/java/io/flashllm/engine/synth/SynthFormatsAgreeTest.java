package io.flashllm.engine.synth;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One seed written as GGUF (q/k permuted for interleaved RoPE) and as HF safetensors (half-split)
 * must be the same model: the same prompt tokens, greedy tokens and top log-probabilities.
 */
class SynthFormatsAgreeTest {
    @TempDir
    Path dir;

    private static List<GeneratedToken> greedy(Path model, String prompt, int n) {
        try (InferenceModel m = ModelLoader.load(model, new LoadOptions(2, 64, null))) {
            int[] ids = m.tokenize(prompt, true);
            List<GeneratedToken> out = new ArrayList<>();
            SamplingParams p = new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 0L, n, List.of(), 5);
            try (Session s = m.openSession(64)) {
                s.generate(ids, p, t -> out.add(t));
            }
            return out;
        }
    }

    private void assertSameModel(SynthArch arch, int kvHeads, Float sparsity) throws IOException {
        assertSameModel(arch, kvHeads, sparsity, 0);
    }

    private void assertSameModel(SynthArch arch, int kvHeads, Float sparsity, int headDim) throws IOException {
        Path gguf = dir.resolve(arch.cliName + ".gguf"), hf = dir.resolve(arch.cliName + "-hf");
        for (SynthFormat f : SynthFormat.values()) {
            SynthSpec s = new SynthSpec(arch, 64, 2, 4, kvHeads, 128, 400, SynthType.F32, f, 17, sparsity, 64, null,
                    headDim);
            Synth.synthesize(s, f == SynthFormat.GGUF ? gguf : hf, 2);
        }
        List<GeneratedToken> a = greedy(gguf, "The cat sat on the mat", 8);
        List<GeneratedToken> b = greedy(hf, "The cat sat on the mat", 8);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).id(), b.get(i).id(), "token " + i);
            assertArrayEquals(a.get(i).topIds(), b.get(i).topIds(), "top ids at " + i);
            for (int k = 0; k < a.get(i).topLogprobs().length; k++) {
                assertEquals(a.get(i).topLogprobs()[k], b.get(i).topLogprobs()[k], 1e-3f, "logprob " + k + " at " + i);
            }
        }
    }

    @Test
    void llamaGgufAndHfGiveTheSameLogits() throws IOException {
        assertSameModel(SynthArch.LLAMA, 2, null);
    }

    @Test
    void reluLlamaWithFatreluThresholdAgreesToo() throws IOException {
        assertSameModel(SynthArch.LLAMA_RELU, 4, 0.8f);
    }

    @Test
    void qwen3WithWideHeadsAgreesToo() throws IOException {
        assertSameModel(SynthArch.QWEN3, 2, null, 32);
    }

    @Test
    void optGgufAndHfGiveTheSameLogits() throws IOException {
        assertSameModel(SynthArch.OPT, 4, null);
    }
}
