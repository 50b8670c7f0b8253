package io.flashllm.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a loaded model says its weights are quantized to (Ollama's quantization_level). */
class QuantizationLevelTest {
    @TempDir
    Path dir;

    @Test
    void theFileTypeAGgufFileDeclaresElseTheAttentionsType() throws Exception {
        for (SynthType t : new SynthType[] {SynthType.Q4_K_M, SynthType.Q8_0, SynthType.BF16}) {
            Path gguf = dir.resolve(t + ".gguf");
            Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 256, 1, 4, 2, 256, 300, t, SynthFormat.GGUF, 1L, null, 128, "q"), gguf);
            try (InferenceModel m = ModelLoader.load(gguf, new LoadOptions(1, 0, null))) {
                assertEquals(t.name(), m.info().quantization());
            }
        }
        Path hf = dir.resolve("hf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 256, 1, 4, 2, 256, 300, SynthType.F16, SynthFormat.HF, 1L, null, 128, "q"), hf);
        try (InferenceModel m = ModelLoader.load(hf, new LoadOptions(1, 0, null))) {
            assertEquals("F16", m.info().quantization(), "a Hugging Face directory declares none: its attention's type");
        }
        assertEquals("MXFP4", QuantizationLevel.of(Map.of("general.file_type", 38), null), "gpt-oss's MXFP4_MOE files");
    }
}
