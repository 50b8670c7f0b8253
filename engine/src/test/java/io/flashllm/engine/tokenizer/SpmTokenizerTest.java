package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SpmTokenizerTest {
    private final Tokenizer tok = Tokenizers.fromGguf(TinyVocabs.spm());

    @Test
    void mergesByScoreGreedily() {
        // ▁ h e l l o: "▁h" (score -10) merges first, then "el" (-11); "ll" is then stale and "▁he" can no longer
        // form because "e" is inside "el": the result is ▁h el l o, not ▁hello.
        assertArrayEquals(new int[] {1, 10, 11, 8, 9}, tok.encode("hello", true));
        assertArrayEquals(new int[] {10, 11, 8, 9}, tok.encode("hello", false));
    }

    @Test
    void unknownCharactersFallBackToBytes() {
        // "é" is not a piece: its UTF-8 bytes C3 A9 are spelled as byte tokens after the prefix space.
        assertArrayEquals(new int[] {1, 5, 3, 4}, tok.encode("\u00e9", true));
        assertEquals("\u00e9", tok.decode(tok.encode("\u00e9", true)));
    }

    @Test
    void spaceIsPutAfterEverySpecialToken() {
        // With special parsing, "<|ctl|>" is one token and the text after it gets its own "▁".
        assertArrayEquals(new int[] {1, 10, 17, 5, 7}, tok.encode("h<|ctl|>e", true, true));
        // User-defined tokens are split out even without special parsing.
        assertArrayEquals(new int[] {10, 16, 5, 7}, tok.encode("h<|user|>e", false, false));
    }

    @Test
    void controlTextIsPlainWithoutSpecialParsing() {
        int[] ids = tok.encode("<|ctl|>", false, false);
        for (int id : ids) {
            assertTrue(id != 17, "control token must not be produced from text");
        }
        assertEquals("<|ctl|>", tok.decode(ids));
    }

    @Test
    void decodeSkipsControlAndStripsPrefixSpace() {
        assertEquals("hello", tok.decode(new int[] {1, 10, 11, 8, 9, 2}));
        assertEquals(" hello", new String(tok.tokenBytes(10), java.nio.charset.StandardCharsets.UTF_8)
                + "ello");
        assertEquals(0, tok.tokenBytes(2).length);
        assertArrayEquals(new int[] {2}, tok.eogTokens());
    }

    @Test
    void emptyTextHasOnlyBos() {
        assertArrayEquals(new int[] {1}, tok.encode("", true));
        assertArrayEquals(new int[0], tok.encode("", false));
    }

    @Test
    void badMetadataGivesClearErrors() {
        Map<String, Object> md = TinyVocabs.spm();
        md.remove("tokenizer.ggml.tokens");
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(md)).getMessage()
                .contains("tokenizer.ggml.tokens"));
        Map<String, Object> md2 = TinyVocabs.spm();
        md2.put("tokenizer.ggml.bos_token_id", 999L);
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(md2)).getMessage()
                .contains("outside the vocabulary"));
        Map<String, Object> md3 = TinyVocabs.spm();
        md3.put("tokenizer.ggml.model", "bert");
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(md3)).getMessage()
                .contains("unsupported"));
        assertThrows(TokenizerException.class, () -> tok.decode(new int[] {-1}));
    }
}
