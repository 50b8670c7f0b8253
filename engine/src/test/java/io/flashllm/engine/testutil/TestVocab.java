package io.flashllm.engine.testutil;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small SentencePiece-style vocabulary as GGUF metadata: unk/bos/eos, the 256 byte-fallback
 * tokens, then ASCII letters and a few words with and without the leading-space marker, padded
 * with pieces to exactly {@code size} tokens.
 */
public final class TestVocab {
    private TestVocab() {}

    public static Map<String, Object> spm(int size) {
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        add(tokens, scores, types, "<unk>", 0f, 2);
        add(tokens, scores, types, "<s>", 0f, 3);
        add(tokens, scores, types, "</s>", 0f, 3);
        for (int b = 0; b < 256; b++) add(tokens, scores, types, String.format("<0x%02X>", b), 0f, 6);
        add(tokens, scores, types, "▁", -1f, 1);
        for (char c = 'a'; c <= 'z'; c++) add(tokens, scores, types, String.valueOf(c), -2f, 1);
        String[] words = {"▁the", "▁a", "▁cat", "▁sat", "▁on", "▁mat", "▁hello", "▁world", "he", "llo", "at",
                "▁t", "▁s", "▁c", "▁m", "▁o", "▁h", "▁w", "or", "ld", "on", "th", "ca", "sa", "ma", "!"};
        float score = -3f;
        for (String w : words) {
            if (tokens.size() == size) break;
            add(tokens, scores, types, w, score, 1);
            score -= 0.01f;
        }
        for (int i = 0; tokens.size() < size; i++) {
            add(tokens, scores, types, "▁x" + i, -9f - i * 0.01f, 1);
        }
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", tokens);
        md.put("tokenizer.ggml.scores", scores);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.bos_token_id", 1L);
        md.put("tokenizer.ggml.eos_token_id", 2L);
        md.put("tokenizer.ggml.unknown_token_id", 0L);
        md.put("tokenizer.ggml.add_bos_token", true);
        return md;
    }

    private static void add(List<String> tokens, List<Float> scores, List<Integer> types, String t, float s, int type) {
        tokens.add(t);
        scores.add(s);
        types.add(type);
    }
}
