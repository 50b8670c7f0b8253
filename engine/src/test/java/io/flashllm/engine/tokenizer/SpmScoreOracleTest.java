package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Score-driven SentencePiece merging against Hugging Face BPE on adversarial vocabularies: random pieces over a
 * two-letter alphabet (so many pieces overlap and can be built several ways) with shuffled scores, on texts of
 * letter runs and spaces.
 */
class SpmScoreOracleTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void randomVocabularies(long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(TokenType.BYTE);
        }
        List<String> pieces = new ArrayList<>(List.of("\u2581", "a", "b"));
        Set<String> have = new HashSet<>(pieces);
        int wanted = 10 + r.nextInt(60);
        for (int guard = 0; guard < 5000 && pieces.size() < 3 + wanted; guard++) {
            String p = pieces.get(r.nextInt(pieces.size())) + pieces.get(r.nextInt(pieces.size()));
            if (p.length() <= 9 && p.indexOf('\u2581', 1) < 0 && have.add(p)) {
                pieces.add(p);
            }
        }
        List<String> merged = new ArrayList<>(pieces.subList(3, pieces.size()));
        Collections.shuffle(merged, new Random(seed));
        tokens.addAll(pieces.subList(0, 3));
        tokens.addAll(merged);
        while (types.size() < tokens.size()) {
            types.add(TokenType.NORMAL);
        }
        BuiltVocab v = BuiltVocab.spm(tokens, types);
        v.writeHfFiles(dir);
        Tokenizer ours = Tokenizers.fromGguf(v.ggufMetadata());
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("truncation", "false", "padding", "false"))) {
            for (int i = 0; i < 400; i++) {
                StringBuilder sb = new StringBuilder();
                int n = 1 + r.nextInt(30);
                for (int k = 0; k < n; k++) {
                    sb.append("aaab ".charAt(r.nextInt(5)));
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
