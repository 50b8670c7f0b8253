package io.flashllm.tornado;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.model.DeviceCheck;
import io.flashllm.engine.model.KvCacheType;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.Transformer;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole decode step on the device against the CPU backend: the same random synth model, the
 * same tokens, the logits of every step within {@link #TOLERANCE} (relative to the largest logit).
 * The CPU runs an F32 KV cache here so the only differences are summation order and float versus
 * double accumulators.
 */
class DecodeVsCpuTest {
    /** Observed on PoCL: below 1e-6 (printed per model); a wrong kernel is off by 1e-1 or more. */
    static final float TOLERANCE = 1e-4f;
    static final int CTX = 32;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"LLAMA, F16", "LLAMA, Q8_0", "LLAMA_RELU, F16", "LLAMA_RELU, Q8_0", "OPT, F16", "OPT, Q8_0"})
    void deviceLogitsMatchTheCpu(SynthArch arch, SynthType type) throws IOException {
        Path model = dir.resolve(arch.cliName + "-" + type + ".gguf");
        int kvHeads = arch == SynthArch.OPT ? 4 : 2;
        Synth.synthesize(new SynthSpec(arch, 64, 2, 4, kvHeads, 128, 400, type, SynthFormat.GGUF, 11, null, CTX, null),
                model, 1);
        LoadOptions options = new LoadOptions(1, 0, null, null, KvCacheType.F32);
        int[] tokens = {1, 65, 300, 7, 122, 9, 42, 250};
        try (LanguageModel lm = ModelLoader.loadLanguageModel(model, options);
             Transformer cpu = lm.newTransformer(CTX);
             TornadoForward device = new TornadoForward(lm, CTX)) {
            float worst = 0f;
            for (int p = 0; p < tokens.length; p++) {
                float[] expected = cpu.forward(tokens[p], p);
                float[] actual = device.forward(tokens[p], p);
                float err = DeviceCheck.relativeError(expected, actual, expected.length);
                assertTrue(err <= TOLERANCE, arch + " " + type + " position " + p + ": relative error " + err);
                worst = Math.max(worst, err);
            }
            System.out.printf("%s %s on %s: largest relative logit error over %d steps %.2e%n", arch, type,
                    device.device(), tokens.length, worst);
        }
    }

    /**
     * A flash bundle (ReLU Llama, Q8_0): attention on the device, neurons read from flash into the
     * neuron cache, the cache rows mirrored to the device and the FFN computed there. The CPU pass
     * shares the bundle FFN (and its cache) and computes the same rows on the CPU.
     */
    @Test
    void bundleFfnOnTheDeviceMatchesTheCpu() throws Exception {
        Path gguf = dir.resolve("relu.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA_RELU, 64, 2, 4, 2, 256, 400, SynthType.Q8_0, SynthFormat.GGUF, 31,
                null, CTX, null), gguf, 1);
        Path bundle = dir.resolve("relu.bundle");
        Converter.convert(gguf, bundle, ConvertOptions.defaults()
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f)).withMinReadBytes(4096));
        LoadOptions options = new LoadOptions(1, 0, null, null, KvCacheType.F32);
        int[] tokens = {1, 65, 300, 7, 122, 9};
        try (LanguageModel lm = ModelLoader.loadLanguageModel(bundle, options);
             Transformer cpu = lm.newTransformer(CTX);
             TornadoForward device = new TornadoForward(lm, CTX)) {
            assertTrue(device.device().contains("neuron-cache rows on the device"), device.device());
            for (int p = 0; p < tokens.length; p++) {
                float[] expected = cpu.forward(tokens[p], p).clone();
                float[] actual = device.forward(tokens[p], p);
                float err = DeviceCheck.relativeError(expected, actual, expected.length);
                assertTrue(err <= TOLERANCE, "bundle position " + p + ": relative error " + err);
            }
            long sent = device.bundleRowsSent();
            assertTrue(sent > 0, "neuron-cache rows reached the device");
            System.out.printf("bundle on %s: %d neuron-cache rows sent over %d tokens (2 layers x 256 neurons)%n",
                    device.device(), sent, tokens.length);
        }
    }
}
