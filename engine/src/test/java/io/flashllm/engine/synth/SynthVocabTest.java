package io.flashllm.engine.synth;

import io.flashllm.engine.tokenizer.Tokenizer;
import io.flashllm.engine.tokenizer.Tokenizers;
import io.flashllm.flashstore.gguf.GgufFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SynthVocabTest {
    @TempDir
    Path dir;

    @Test
    void ggufModelCarriesAUsableSpmTokenizerWithU32Ids() throws IOException {
        SynthSpec s = new SynthSpec(SynthArch.LLAMA, 64, 1, 4, 4, 96, 1000, SynthType.Q8_0, SynthFormat.GGUF, 1,
                null, 64, null);
        Path f = dir.resolve("v.gguf");
        Synth.synthesize(s, f, 2);
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals("llama", g.getString("tokenizer.ggml.model"));
            // u32 in the file: the reader hands u32 back as Long
            assertInstanceOf(Long.class, g.metadata().get("tokenizer.ggml.bos_token_id"));
            try (Tokenizer t = Tokenizers.fromGguf(g.metadata())) {
                assertEquals(1000, t.vocabSize());
                int[] ids = t.encode("Once upon a time there was a fox.", true);
                assertEquals(t.bos(), ids[0]);
                assertTrue(ids.length < 20, "common words should be whole tokens: " + ids.length);
                assertEquals("Once upon a time there was a fox.", t.decode(ids));
            }
        }
    }

    @Test
    void hfModelHasConfigTokenizerAndWeights() throws IOException {
        SynthSpec s = new SynthSpec(SynthArch.OPT, 64, 1, 4, 4, 256, 600, SynthType.F16, SynthFormat.HF, 1,
                null, 64, null);
        Path d = dir.resolve("opt");
        Synth.synthesize(s, d, 2);
        for (String f : new String[] {"config.json", "generation_config.json", "tokenizer.json",
                "tokenizer_config.json", "model.safetensors"}) {
            assertTrue(Files.exists(d.resolve(f)), f);
        }
        String config = Files.readString(d.resolve("config.json"));
        assertTrue(config.contains("\"OPTForCausalLM\""), config);
        assertTrue(config.contains("\"torch_dtype\" : \"float16\""), config);
        assertTrue(config.contains("\"ffn_dim\" : 256"), config);
    }
}
