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
    void metaspaceDecoderGivesSentencePieceBytes() throws Exception {
        // Newer Llama/Mistral tokenizer.json files decode with a Metaspace decoder instead of Replace+ByteFallback.
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.SPM, 500);
        ObjectMapper json = new ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(v.tokenizerJson());
        root.putObject("decoder").put("type", "Metaspace").put("replacement", "\u2581")
                .put("prepend_scheme", "always").put("split", false);
        Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(root));
        Tokenizer gguf = Tokenizers.fromGguf(v.ggufMetadata());
        try (Tokenizer hf = Tokenizers.fromHfDir(dir, null)) {
            for (int id = 0; id < v.size(); id++) {
                assertArrayEquals(gguf.tokenBytes(id), hf.tokenBytes(id), "bytes of token " + id);
            }
        }
    }

    @Test
    void unigramVocabularies() throws Exception {
        // A small SentencePiece-Unigram tokenizer.json (T5/ALBERT layout): ids are list positions.
        String json = """
                {"version": "1.0", "truncation": null, "padding": null,
                 "added_tokens": [{"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false,
                                   "normalized": false, "special": true},
                                  {"id": 1, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false,
                                   "normalized": false, "special": true}],
                 "normalizer": null,
                 "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
                 "post_processor": null,
                 "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true},
                 "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
                           "vocab": [["<unk>", 0.0], ["</s>", 0.0], ["\u2581", -2.0], ["\u2581the", -1.0], ["\u2581cat", -1.5],
                                     ["s", -2.5], ["a", -3.0], ["t", -3.0], ["c", -3.0], ["h", -3.0], ["e", -3.0]]}}
                """;
        Files.writeString(dir.resolve("tokenizer.json"), json);
        var config = new ObjectMapper().readTree("{\"eos_token_id\": 1}");
        try (Tokenizer hf = Tokenizers.fromHfDir(dir, config)) {
            assertEquals(11, hf.vocabSize());
            assertEquals("\u2581cat", hf.tokenText(4));
            assertArrayEquals(new int[] {3, 4, 5}, hf.encode("the cats", false));
            assertEquals("the cats", hf.decode(hf.encode("the cats", false)));
            assertEquals(" cat", new String(hf.tokenBytes(4), java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(1, hf.eos());
            assertTrue(hf.isControl(1));
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
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}}}");
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDir(dir, null)).getMessage()
                .contains("no valid id"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\"}}");
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDir(dir, null)).getMessage()
                .contains("no model.vocab"));
    }
}
