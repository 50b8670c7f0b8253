package io.flashllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer part of GGUF metadata ({@code tokenizer.ggml.*}), checked and in arrays.
 *
 * @param model          {@code "llama"} (SentencePiece) or {@code "gpt2"} (byte-level BPE)
 * @param pre            pre-tokenizer name for BPE vocabularies ({@code tokenizer.ggml.pre}), or null
 * @param types          {@link TokenType} per token (NORMAL where the file has none)
 * @param merges         BPE merges "left right" in rank order (empty for SentencePiece)
 * @param addSpacePrefix SentencePiece: put a space before the text (and after every special token)
 */
public record GgufVocab(
        String model,
        String pre,
        String[] tokens,
        float[] scores,
        int[] types,
        List<String> merges,
        int bos,
        int eos,
        int unk,
        int eot,
        boolean addBos,
        boolean addEos,
        boolean addSpacePrefix) {

    public static final String PREFIX = "tokenizer.ggml.";

    /** Reads the vocabulary from GGUF metadata; a missing or malformed entry gives a {@link TokenizerException}. */
    public static GgufVocab fromMetadata(Map<String, Object> md) {
        String model = string(md, "model");
        if (model == null) {
            throw new TokenizerException("GGUF metadata has no tokenizer.ggml.model: the file carries no tokenizer");
        }
        List<?> tokList = list(md, "tokens", true);
        int n = tokList.size();
        if (n == 0) {
            throw new TokenizerException("tokenizer.ggml.tokens is empty");
        }
        String[] tokens = new String[n];
        for (int i = 0; i < n; i++) {
            if (!(tokList.get(i) instanceof String s)) {
                throw new TokenizerException("tokenizer.ggml.tokens[" + i + "] is not a string");
            }
            tokens[i] = s;
        }
        float[] scores = new float[n];
        List<?> scoreList = list(md, "scores", false);
        if (scoreList != null) {
            checkLength("scores", scoreList.size(), n);
            for (int i = 0; i < n; i++) {
                if (!(scoreList.get(i) instanceof Number num)) {
                    throw new TokenizerException("tokenizer.ggml.scores[" + i + "] is not a number");
                }
                scores[i] = num.floatValue();
            }
        }
        int[] types = new int[n];
        List<?> typeList = list(md, "token_type", false);
        if (typeList != null) {
            checkLength("token_type", typeList.size(), n);
            for (int i = 0; i < n; i++) {
                if (!(typeList.get(i) instanceof Number num)) {
                    throw new TokenizerException("tokenizer.ggml.token_type[" + i + "] is not a number");
                }
                types[i] = num.intValue();
            }
        } else {
            java.util.Arrays.fill(types, TokenType.NORMAL);
        }
        List<String> merges = new ArrayList<>();
        List<?> mergeList = list(md, "merges", false);
        if (mergeList != null) {
            for (int i = 0; i < mergeList.size(); i++) {
                if (!(mergeList.get(i) instanceof String s)) {
                    throw new TokenizerException("tokenizer.ggml.merges[" + i + "] is not a string");
                }
                merges.add(s);
            }
        }
        boolean spm = model.equals("llama");
        boolean bpe = model.equals("gpt2");
        if (!spm && !bpe) {
            throw new TokenizerException("unsupported tokenizer.ggml.model '" + model
                    + "' (supported: llama = SentencePiece, gpt2 = byte-level BPE)");
        }
        if (bpe && merges.isEmpty()) {
            throw new TokenizerException("tokenizer.ggml.model is gpt2 but tokenizer.ggml.merges is missing or empty");
        }
        int bos = id(md, "bos_token_id", n);
        int eos = id(md, "eos_token_id", n);
        int unk = id(md, "unknown_token_id", n);
        int eot = id(md, "eot_token_id", n);
        if (spm) {
            // SentencePiece defaults llama.cpp applies when the ids are not stored.
            TextIds byText = TextIds.of(tokens);
            if (bos < 0) bos = byText.getOrDefault("<s>", -1);
            if (eos < 0) eos = byText.getOrDefault("</s>", -1);
            if (unk < 0) unk = byText.getOrDefault("<unk>", -1);
        }
        if (typeList == null) {
            // Without types, treat the declared specials as control tokens so they never print or merge.
            for (int id : new int[] {bos, eos, eot}) {
                if (id >= 0) types[id] = TokenType.CONTROL;
            }
            if (unk >= 0) types[unk] = TokenType.UNKNOWN;
        }
        boolean addBos = bool(md, "add_bos_token", spm);
        boolean addEos = bool(md, "add_eos_token", false);
        boolean addSpace = bool(md, "add_space_prefix", spm);
        if (addBos && bos < 0) {
            throw new TokenizerException("tokenizer.ggml.add_bos_token is set but the vocabulary has no BOS token");
        }
        if (addEos && eos < 0) {
            throw new TokenizerException("tokenizer.ggml.add_eos_token is set but the vocabulary has no EOS token");
        }
        return new GgufVocab(model, string(md, "pre"), tokens, scores, types, List.copyOf(merges),
                bos, eos, unk, eot, addBos, addEos, addSpace);
    }

    public int size() {
        return tokens.length;
    }

    private static void checkLength(String key, int got, int n) {
        if (got != n) {
            throw new TokenizerException("tokenizer.ggml." + key + " has " + got + " entries but there are " + n + " tokens");
        }
    }

    private static String string(Map<String, Object> md, String key) {
        Object v = md.get(PREFIX + key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new TokenizerException("tokenizer.ggml." + key + " is not a string: " + v.getClass().getSimpleName());
        }
        return s;
    }

    private static List<?> list(Map<String, Object> md, String key, boolean required) {
        Object v = md.get(PREFIX + key);
        if (v == null) {
            if (required) {
                throw new TokenizerException("GGUF metadata has no tokenizer.ggml." + key);
            }
            return null;
        }
        if (!(v instanceof List<?> l)) {
            throw new TokenizerException("tokenizer.ggml." + key + " is not an array");
        }
        return l;
    }

    private static int id(Map<String, Object> md, String key, int n) {
        Object v = md.get(PREFIX + key);
        if (v == null) {
            return -1;
        }
        if (!(v instanceof Number num)) {
            throw new TokenizerException("tokenizer.ggml." + key + " is not a number");
        }
        long id = num.longValue();
        // Some converters store -1 / 0xFFFFFFFF for "none".
        if (id == -1 || id == 0xFFFFFFFFL) {
            return -1;
        }
        if (id < 0 || id >= n) {
            throw new TokenizerException("tokenizer.ggml." + key + " = " + id + " is outside the vocabulary (" + n + " tokens)");
        }
        return (int) id;
    }

    private static boolean bool(Map<String, Object> md, String key, boolean dflt) {
        Object v = md.get(PREFIX + key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof Number num) {
            return num.intValue() != 0;
        }
        throw new TokenizerException("tokenizer.ggml." + key + " is not a boolean");
    }
}
