package io.flashllm.tornado;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.model.DeviceBackend;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.FfnActivation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --backend tornado} end to end: found through ServiceLoader, loaded by the model loader,
 * generating through a session (prompt and decode on the device, first token cross-checked) the
 * same greedy tokens as the CPU.
 */
class BackendWiringTest {
    @TempDir
    Path dir;

    private static List<GeneratedToken> greedy(Path model, String backend) {
        LoadOptions options = new LoadOptions(1, 64, null).withBackend(backend);
        try (InferenceModel m = ModelLoader.load(model, options)) {
            int[] ids = m.tokenize("The cat sat on the mat", true);
            List<GeneratedToken> out = new ArrayList<>();
            SamplingParams p = new SamplingParams(0f, 0, 1f, 0f, 1f, 64, 0f, 0f, 0L, 6, List.of(), 3);
            try (Session s = m.openSession(64)) {
                s.generate(ids, p, out::add);
            }
            return out;
        }
    }

    @Test
    void serviceLoaderFindsTheBackendAndItIsAvailableUnderTheSdkFlags() {
        DeviceBackend b = DeviceBackend.require("tornado");
        assertInstanceOf(TornadoBackend.class, b);
        assertNull(b.unavailableReason());
    }

    @Test
    void tornadoGeneratesTheCpuTokens() throws IOException {
        Path model = dir.resolve("llama.gguf");
        // Six layers: two chained device segments of up to four layers.
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 64, 6, 4, 2, 128, 400, SynthType.Q8_0, SynthFormat.GGUF, 23, null,
                64, null), model, 1);
        assertSameTokens(model);
    }

    /**
     * A flash bundle: attention on the device, the neuron cache filled on the host from flash, its
     * rows mirrored to the device and the FFN computed there.
     */
    @Test
    void aFlashBundleRunsItsAttentionOnTheDevice() throws Exception {
        Path gguf = dir.resolve("relu.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA_RELU, 64, 2, 4, 2, 128, 400, SynthType.F16, SynthFormat.GGUF, 29,
                null, 64, null), gguf, 1);
        Path bundle = dir.resolve("relu.bundle");
        Converter.convert(gguf, bundle, ConvertOptions.defaults()
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f)).withMinReadBytes(4096));
        assertSameTokens(bundle);
    }

    private static void assertSameTokens(Path model) {
        List<GeneratedToken> cpu = greedy(model, "cpu");
        List<GeneratedToken> tornado = greedy(model, "tornado");
        assertEquals(cpu.size(), tornado.size());
        for (int i = 0; i < cpu.size(); i++) {
            assertEquals(cpu.get(i).id(), tornado.get(i).id(), "token " + i);
            assertArrayEquals(cpu.get(i).topIds(), tornado.get(i).topIds(), "top ids at " + i);
            for (int k = 0; k < cpu.get(i).topLogprobs().length; k++) {
                // The CPU's F16 KV cache against the device's F32 one: log-probabilities within 1e-2.
                assertEquals(cpu.get(i).topLogprobs()[k], tornado.get(i).topLogprobs()[k], 1e-2f, "logprob " + k + " at " + i);
            }
        }
    }
}
