package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BpeTokenizerTest {
    /** 256 byte symbols (id = byte value), then ll, he, hell, hello, Ġhello, then <|endoftext|>. */
    private static Map<String, Object> tiny(String pre) {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteUnicode.toChar(b)));
            types.add(TokenType.NORMAL);
        }
        for (String t : List.of("ll", "he", "hell", "hello", "\u0120hello")) {
            tokens.add(t);
            types.add(TokenType.NORMAL);
        }
        tokens.add("<|endoftext|>");
        types.add(TokenType.CONTROL);
        Map<String, Object> md = new HashMap<>();
        md.put("tokenizer.ggml.model", "gpt2");
        if (pre != null) md.put("tokenizer.ggml.pre", pre);
        md.put("tokenizer.ggml.tokens", tokens);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.merges", List.of("l l", "h e", "he ll", "hell o", "\u0120 hello"));
        md.put("tokenizer.ggml.bos_token_id", 261L);
        md.put("tokenizer.ggml.eos_token_id", 261L);
        return md;
    }

    @Test
    void mergesByRank() {
        Tokenizer tok = Tokenizers.fromGguf(tiny("gpt2"));
        // h e l l o -> h e ll o (rank 0) -> he ll o (1) -> hell o (2) -> hello (3)
        assertArrayEquals(new int[] {259}, tok.encode("hello", false));
        // " hello" is one word: Ġ h e l l o -> ... -> Ġ hello -> Ġhello
        assertArrayEquals(new int[] {260}, tok.encode(" hello", false));
        // "hellox": the x stays a byte symbol; "Hello": capital H has no merges.
        assertArrayEquals(new int[] {259, 'x'}, tok.encode("hellox", false));
        assertArrayEquals(new int[] {'H', 'e', 256, 'o'}, tok.encode("Hello", false));
        // GPT-2 adds no BOS by default; the special token text is one token.
        assertArrayEquals(new int[] {259, 261, 260}, tok.encode("hello<|endoftext|> hello", true));
        assertEquals("hello hello", tok.decode(new int[] {259, 261, 260}));
    }

    @Test
    void byteSymbolsDecodeToUtf8() {
        Tokenizer tok = Tokenizers.fromGguf(tiny("gpt2"));
        int[] ids = tok.encode("\u00e9\ud83d\ude00", false);
        assertArrayEquals(new int[] {0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80}, ids);
        assertEquals("\u00e9\ud83d\ude00", tok.decode(ids));
    }

    @Test
    void gpt2WordSplitting() {
        assertEquals(List.of("I", "'m", " 42", " years", ",", " ", " ok", "!!", "\n"),
                PreTokenizer.GPT2.split("I'm 42 years,  ok!!\n"));
        assertEquals(List.of("Hello", "   ", " world"), PreTokenizer.GPT2.split("Hello    world"));
        assertEquals(List.of("caf\u00e9", " \u65e5\u672c"), PreTokenizer.GPT2.split("caf\u00e9 \u65e5\u672c"));
    }

    @Test
    void llama3WordSplitting() {
        // Digits go in groups of three; a word takes one leading non-letter; contractions ignore case.
        assertEquals(List.of("123", "45", " abcIT", "'S", "\n\n", " ", " x"),
                PreTokenizer.LLAMA3.split("12345 abcIT'S\n\n  x"));
        assertEquals(List.of("it", "'s", "IT", "'S"), PreTokenizer.LLAMA3.split("it'sIT'S"));
        assertEquals(List.of("(hello", ")"), PreTokenizer.LLAMA3.split("(hello)"));
    }

    @Test
    void tekkenGpt4oAndSmollmWordSplitting() {
        // Tekken (Mistral Nemo): words cut where lower case turns upper, digits alone, a slash joins a word.
        assertEquals(List.of("Hello", "World", " ", "1", "2", "3", " foo", "/bar", "\n\n"),
                PreTokenizer.TEKKEN.split("HelloWorld 123 foo/bar\n\n"));
        // Capitals run into the lower case after them; punctuation takes the newlines and slashes after it.
        assertEquals(List.of("ABCdef", " x", "!/\n"), PreTokenizer.TEKKEN.split("ABCdef x!/\n"));
        // GPT-4o: the same case cuts with contractions kept on their word, digits in threes.
        assertEquals(List.of("I'm", " Bob'S", " ", "123", "45"), PreTokenizer.GPT4O.split("I'm Bob'S 12345"));
        // SmolLM: every digit alone first, then GPT-2's pattern on what is between.
        assertEquals(List.of("abc", " ", "1", "2", "3", " def", "4"), PreTokenizer.SMOLLM.split("abc 123 def4"));
        assertEquals(PreTokenizer.TEKKEN, PreTokenizer.forGgufPre("tekken"));
        assertEquals(PreTokenizer.SMOLLM, PreTokenizer.forGgufPre("smollm"));
        assertEquals(PreTokenizer.GPT4O, PreTokenizer.forGgufPre("gpt-4o"));
        assertTrue(PreTokenizer.isKnown("tekken") && !PreTokenizer.isKnown("chameleon"));
    }

    @Test
    void llama3TakesWholeWordsFirst() {
        // With the llama3 pre-tokenizer a word that is a token is used whole even when merges would split it:
        // drop the merge that builds "hello" and it is still one token.
        Map<String, Object> md = tiny("llama-bpe");
        md.put("tokenizer.ggml.merges", List.of("l l", "h e", "he ll"));
        assertArrayEquals(new int[] {259}, Tokenizers.fromGguf(md).encode("hello", false));
        Map<String, Object> gpt2 = tiny("gpt2");
        gpt2.put("tokenizer.ggml.merges", List.of("l l", "h e", "he ll"));
        assertArrayEquals(new int[] {258, 'o'}, Tokenizers.fromGguf(gpt2).encode("hello", false));
    }

    @Test
    void badMergesAreRejected() {
        Map<String, Object> md = tiny(null);
        md.put("tokenizer.ggml.merges", List.of("nospace"));
        assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(md));
        Map<String, Object> md2 = tiny(null);
        md2.remove("tokenizer.ggml.merges");
        assertThrows(TokenizerException.class, () -> Tokenizers.fromGguf(md2));
    }
}
