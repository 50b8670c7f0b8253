package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.kernels.GgmlType;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Warm-up compiles the kernels of the types the model holds, plus F16 (KV cache) and Q8_0 (bundle down columns). */
class EngineModelsWeightTypesTest {
    @TempDir
    Path dir;

    @Test
    void typesOfALoadedModel() throws Exception {
        Path file = dir.resolve("tiny-q4.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 64, 2, 4, 2, 128, 512, SynthType.Q4_0, SynthFormat.GGUF,
                11L, null, 512, "tiny"), file);
        try (InferenceModel m = ModelLoader.load(file, new LoadOptions(1, 0, null))) {
            assertEquals(EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0), EngineModels.weightTypes(m));
        }
    }
}
