package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Byte-level BPE merging by rank against Hugging Face on adversarial merge lists: random merges over a few
 * letters (pieces buildable several ways, merges whose parts are themselves late merges), on texts of letter runs.
 */
class BpeRankOracleTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"GPT2, 1", "GPT2, 2", "GPT2, 3", "GPT2, 4", "LLAMA3, 5", "LLAMA3, 6", "LLAMA3, 7"})
    void randomMerges(VocabBuilder.Style style, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteUnicode.toChar(b)));
            types.add(TokenType.NORMAL);
        }
        List<String> alphabet = List.of("a", "b", "c", "\u0120");
        List<String> pieces = new ArrayList<>(alphabet);
        Set<String> have = new HashSet<>(tokens);
        List<String> merges = new ArrayList<>();
        int wanted = 20 + r.nextInt(80);
        for (int guard = 0; guard < 10000 && merges.size() < wanted; guard++) {
            String a = pieces.get(r.nextInt(pieces.size())), b = pieces.get(r.nextInt(pieces.size()));
            String p = a + b;
            // Keep Ġ only at the start, as word splitting never yields it inside a word.
            if (p.length() <= 10 && p.indexOf('\u0120', 1) < 0 && have.add(p)) {
                pieces.add(p);
                tokens.add(p);
                types.add(TokenType.NORMAL);
                merges.add(a + " " + b);
            }
        }
        String[] specials = style == VocabBuilder.Style.GPT2
                ? new String[] {"<|endoftext|>"} : new String[] {"<|begin_of_text|>", "<|end_of_text|>"};
        for (String s : specials) {
            tokens.add(s);
            types.add(TokenType.CONTROL);
        }
        BuiltVocab v = BuiltVocab.byteLevel(style, tokens, types, merges);
        v.writeHfFiles(dir);
        Tokenizer ours = Tokenizers.fromGguf(v.ggufMetadata());
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("truncation", "false", "padding", "false"))) {
            for (int i = 0; i < 400; i++) {
                StringBuilder sb = new StringBuilder();
                int n = 1 + r.nextInt(30);
                for (int k = 0; k < n; k++) {
                    sb.append("aabbc ".charAt(r.nextInt(6)));
                }
                String s = sb.toString();
                int[] expected = Arrays.stream(hf.encode(s, false, false).getIds()).mapToInt(x -> (int) x).toArray();
                int[] got = ours.encode(s, false);
                assertArrayEquals(expected, got, () -> "[" + s + "]\n hf:   " + HfOracleTest.pieces(ours, expected)
                        + "\n ours: " + HfOracleTest.pieces(ours, got));
            }
        }
    }
}
