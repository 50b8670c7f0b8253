package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

class VocabBuilderTest {
    @ParameterizedTest
    @CsvSource({"SPM, 268", "SPM, 300", "SPM, 32000", "GPT2, 268", "GPT2, 32000", "LLAMA3, 268", "LLAMA3, 4096",
            "HARMONY, 268", "HARMONY, 4096"})
    void exactSizeUniqueTokensDeterministic(VocabBuilder.Style style, int size) {
        BuiltVocab a = VocabBuilder.build(style, size);
        assertEquals(size, a.size());
        assertEquals(size, new HashSet<>(a.tokens()).size(), "tokens must be unique");
        assertEquals(a.tokens(), VocabBuilder.build(style, size).tokens(), "same size, same vocabulary");
        assertEquals(a.ggufMetadata(), VocabBuilder.build(style, size).ggufMetadata());
        assertEquals(a.tokenizerJson(), VocabBuilder.build(style, size).tokenizerJson());
    }

    @Test
    void smallerVocabularyIsAPrefixOfLargerOneForSpm() {
        // Pieces come in rank order, so growing the size only appends.
        List<String> small = VocabBuilder.build(VocabBuilder.Style.SPM, 800).tokens();
        assertEquals(small, VocabBuilder.build(VocabBuilder.Style.SPM, 2000).tokens().subList(0, 800));
    }

    @ParameterizedTest
    @EnumSource(VocabBuilder.Style.class)
    void commonWordsAreSingleTokens(VocabBuilder.Style style) {
        Tokenizer tok = Tokenizers.fromGguf(VocabBuilder.build(style, 1000).ggufMetadata());
        for (String w : List.of(" the", " and", " of", " water", " people")) {
            assertEquals(1, tok.encode(w.substring(style == VocabBuilder.Style.SPM ? 1 : 0), false).length, w);
        }
    }

    @Test
    void ggufValueTypesFollowTheReaderMapping() {
        Map<String, Object> md = VocabBuilder.build(VocabBuilder.Style.SPM, 400).ggufMetadata();
        assertEquals("llama", md.get("tokenizer.ggml.model"));
        assertInstanceOf(Long.class, md.get("tokenizer.ggml.bos_token_id"));
        assertInstanceOf(Float.class, ((List<?>) md.get("tokenizer.ggml.scores")).get(300));
        assertInstanceOf(Integer.class, ((List<?>) md.get("tokenizer.ggml.token_type")).get(0));
        assertInstanceOf(Boolean.class, md.get("tokenizer.ggml.add_bos_token"));
        GgufVocab v = GgufVocab.fromMetadata(md);
        assertEquals(1, v.bos());
        assertEquals(2, v.eos());
        assertEquals(0, v.unk());
        assertEquals(TokenType.BYTE, v.types()[3]);
        assertEquals("<0x00>", v.tokens()[3]);
        // Scores fall with rank, so earlier pieces win merges.
        assertTrue(v.scores()[400 - 2] < v.scores()[300]);
    }

    @Test
    void tokenizerJsonHasTheLlama2Layout() throws Exception {
        BuiltVocab b = VocabBuilder.build(VocabBuilder.Style.SPM, 400);
        JsonNode j = new ObjectMapper().readTree(b.tokenizerJson());
        assertEquals("BPE", j.path("model").path("type").asText());
        assertTrue(j.path("model").path("byte_fallback").asBoolean());
        assertEquals(400, j.path("model").path("vocab").size());
        assertEquals("Prepend", j.path("normalizer").path("normalizers").get(0).path("type").asText());
        assertEquals(3, j.path("added_tokens").size());
        // SentencePiece merges: every split of a piece into two pieces, e.g. "▁the" from "▁t"+"he" or "▁th"+"e".
        List<String> merges = b.spmMerges();
        assertEquals(merges.size(), new HashSet<>(merges).size());
        JsonNode config = new ObjectMapper().readTree(b.tokenizerConfigJson());
        assertEquals("<s>", config.path("bos_token").asText());
        assertTrue(config.path("chat_template").asText().contains("<<SYS>>"));
    }

    @Test
    void gpt2MergesBuildEveryPiece() {
        BuiltVocab b = VocabBuilder.build(VocabBuilder.Style.GPT2, 700);
        Map<String, Object> md = b.ggufMetadata();
        List<?> merges = (List<?>) md.get("tokenizer.ggml.merges");
        // 256 byte symbols + one merge per piece + 3 specials.
        assertEquals(700 - 256 - 3, merges.size());
        for (Object m : merges) {
            String[] lr = ((String) m).split(" ");
            assertTrue(b.tokens().contains(lr[0] + lr[1]), "merge result is a token: " + m);
        }
        Tokenizer tok = Tokenizers.fromGguf(md);
        assertArrayEquals(new int[] {b.tokens().indexOf("<|im_end|>")}, tok.encode("<|im_end|>", false));
    }

    @Test
    void tooSmallIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> VocabBuilder.build(VocabBuilder.Style.GPT2, 100));
    }
}
