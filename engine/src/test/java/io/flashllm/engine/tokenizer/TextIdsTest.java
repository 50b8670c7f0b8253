package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link TextIds} against a {@code HashMap} filled the way the tokenizers filled theirs (first key wins). */
class TextIdsTest {

    @Test
    void answersAsAHashMapWithFirstOccurrenceWins() {
        Random r = new Random(7);
        for (int n : new int[] {0, 1, 3, 4, 5, 100, 32000}) {
            String[] keys = new String[n];
            for (int i = 0; i < n; i++) {
                // Short texts over a few letters: many duplicates, as in padded vocabularies.
                keys[i] = i % 17 == 3 && i > 0 ? keys[r.nextInt(i)] : randomText(r, 1 + r.nextInt(4));
            }
            Map<String, Integer> oracle = new HashMap<>();
            for (int i = 0; i < n; i++) oracle.putIfAbsent(keys[i], i);
            TextIds ids = TextIds.of(keys);
            for (int i = 0; i < n; i++) assertEquals(oracle.get(keys[i]), ids.get(keys[i]), keys[i]);
            for (int q = 0; q < 2000; q++) {
                String t = randomText(r, 1 + r.nextInt(5));
                assertEquals(oracle.getOrDefault(t, -1), ids.get(t), t);
                assertEquals(oracle.getOrDefault(t, -9), ids.getOrDefault(t, -9), t);
            }
        }
    }

    @Test
    void keepsOnlyTheIncludedIndexes() {
        String[] keys = {"a", "b", "a", "c", "b", "d"};
        TextIds ids = TextIds.of(keys, i -> i != 0 && i != 1);
        assertEquals(2, ids.get("a"));
        assertEquals(4, ids.get("b"));
        assertEquals(3, ids.get("c"));
        assertEquals(5, ids.get("d"));
        assertEquals(-1, ids.get("e"));
    }

    @Test
    void tellsApartTextsWithTheSameHash() {
        // "Aa" and "BB" share String.hashCode, as do their concatenations.
        String[] keys = {"AaAa", "AaBB", "BBAa", "BBBB", "Aa", "BB", null};
        TextIds ids = TextIds.of(keys);
        for (int i = 0; i < keys.length - 1; i++) assertEquals(i, ids.get(keys[i]));
        assertEquals(-1, ids.get("AaBb"));
    }

    private static String randomText(Random r, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) sb.append("abcdefgh▁é".charAt(r.nextInt(10)));
        return sb.toString();
    }
}
