package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The tokenizer.json wrapper agrees with the GGUF tokenizer on the same vocabulary in everything it reports. */
class HfTokenizerTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(VocabBuilder.Style.class)
    void sameAnswersAsGguf(VocabBuilder.Style style) {
        BuiltVocab v = VocabBuilder.build(style, 900);
        v.writeHfFiles(dir);
        Tokenizer gguf = Tokenizers.fromGguf(v.ggufMetadata());
        try (Tokenizer hf = Tokenizers.fromHfDir(dir, null)) {
            assertEquals(gguf.vocabSize(), hf.vocabSize());
            assertEquals(gguf.bos(), hf.bos());
            assertEquals(gguf.eos(), hf.eos());
            int[] ge = gguf.eogTokens(), he = hf.eogTokens();
            Arrays.sort(ge);
            Arrays.sort(he);
            assertArrayEquals(ge, he);
            for (int id = 0; id < v.size(); id++) {
                assertEquals(gguf.tokenText(id), hf.tokenText(id));
                assertArrayEquals(gguf.tokenBytes(id), hf.tokenBytes(id), "bytes of token " + id);
                assertEquals(gguf.isControl(id), hf.isControl(id));
                assertEquals(id, hf.tokenId(hf.tokenText(id)));
            }
            for (String t : TextSamples.random(5, 200)) {
                assertArrayEquals(gguf.encode(t, true), hf.encode(t, true), t);
                int[] ids = gguf.encode(t, true);
                assertEquals(gguf.decode(ids), hf.decode(ids), t);
            }
        }
    }

    @Test
    void specialIdsComeFromConfigFiles() throws Exception {
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.LLAMA3, 600);
        v.writeHfFiles(dir);
        int eot = v.tokens().indexOf("<|eot_id|>");
        ObjectMapper json = new ObjectMapper();
        // Llama 3 style: config.json lists several EOS ids.
        var config = json.readTree("{\"bos_token_id\": " + v.bos() + ", \"eos_token_id\": [" + eot + ", " + v.eos() + "]}");
        try (Tokenizer hf = Tokenizers.fromHfDir(dir, config)) {
            assertEquals(v.bos(), hf.bos());
            assertEquals(eot, hf.eos());
            assertTrue(hf.isEog(eot));
            assertTrue(hf.isEog(v.eos()));
            assertFalse(hf.isEog(v.bos()));
            assertEquals(v.bos(), hf.encode("hi", true)[0]);
        }
        var bad = json.readTree("{\"eos_token_id\": 999999}");
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDir(dir, bad)).getMessage()
                .contains("outside the vocabulary"));
    }

    @Test
    void missingOrBrokenFilesGiveClearErrors() throws Exception {
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDir(dir, null)).getMessage()
                .contains("no tokenizer.json"));
        Files.writeString(dir.resolve("tokenizer.json"), "{not json");
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDir(dir, null)).getMessage()
                .contains("not readable JSON"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}}");
        assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDir(dir, null));
    }
}
