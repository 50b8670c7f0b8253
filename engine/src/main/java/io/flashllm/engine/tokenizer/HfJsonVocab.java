package io.flashllm.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@code tokenizer.json} with flashllm's own tokenizers, without the Hugging Face native library, for the
 * two layouts LLM tokenizers use:
 * <ul>
 *   <li>byte-level BPE: no normalizer; a ByteLevel pre-tokenizer with the GPT-2 regex, or a Split with the Llama 3
 *       or Qwen2 regex followed by ByteLevel; a ByteLevel decoder;</li>
 *   <li>SentencePiece-converted BPE (Llama 2, Mistral, Gemma...): byte fallback, and either the legacy
 *       Prepend("▁") + Replace(" ", "▁") normalizer or a Metaspace pre-tokenizer without splitting.</li>
 * </ul>
 * Anything else is refused with a message naming the part that is not understood, never guessed at. For the
 * SentencePiece layout a piece's score is minus the rank of its first merge, which reproduces Hugging Face exactly
 * when the merges are all splits of every piece ranked by piece (how SentencePiece models are converted).
 */
final class HfJsonVocab {
    private HfJsonVocab() {}

    static Tokenizer tokenizer(Path file, JsonNode tok, HfSpecials.Sources sources) {
        JsonNode model = tok.path("model");
        if (!"BPE".equals(model.path("type").asText())) {
            throw unsupported(file, "model type " + model.path("type").asText("(none)") + " (only BPE)");
        }
        if (!model.path("vocab").isObject()) {
            throw unsupported(file, "model.vocab is not a piece-to-id object");
        }
        for (String k : new String[] {"continuing_subword_prefix", "end_of_word_suffix", "dropout"}) {
            if (!model.path(k).isMissingNode() && !model.path(k).isNull() && !model.path(k).asText().isEmpty()) {
                throw unsupported(file, "model." + k + " = " + model.path(k));
            }
        }
        int n = -1;
        Map<String, Integer> vocabIds = new HashMap<>();
        for (Map.Entry<String, JsonNode> e : model.path("vocab").properties()) {
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw new TokenizerException(file + ": vocab entry '" + e.getKey() + "' has no valid id");
            }
            vocabIds.put(e.getKey(), e.getValue().asInt());
            n = Math.max(n, e.getValue().asInt());
        }
        for (JsonNode a : tok.path("added_tokens")) {
            n = Math.max(n, a.path("id").asInt(-1));
        }
        n++;
        String[] tokens = new String[n];
        int[] types = new int[n];
        Arrays.fill(types, TokenType.NORMAL);
        for (Map.Entry<String, Integer> e : vocabIds.entrySet()) {
            tokens[e.getValue()] = e.getKey();
        }
        Map<String, Integer> byText = new HashMap<>(vocabIds);
        boolean[] control = new boolean[n];
        for (JsonNode a : tok.path("added_tokens")) {
            int id = a.path("id").asInt(-1);
            String content = a.path("content").asText(null);
            if (id < 0 || content == null) {
                throw new TokenizerException(file + ": added_tokens entry without id or content: " + a);
            }
            for (String flag : new String[] {"lstrip", "rstrip", "single_word"}) {
                if (a.path(flag).asBoolean(false)) {
                    throw unsupported(file, "added token " + content + " with " + flag);
                }
            }
            tokens[id] = content;
            boolean special = a.path("special").asBoolean(false);
            types[id] = special ? TokenType.CONTROL : TokenType.USER_DEFINED;
            control[id] = special;
            byText.put(content, id);
        }
        for (int i = 0; i < n; i++) {
            if (tokens[i] == null) {
                tokens[i] = "";
                types[i] = TokenType.UNUSED;
            }
        }
        List<String> merges = merges(file, model.path("merges"));
        HfSpecials specials = HfSpecials.resolve(sources, byText, control);
        // As with the Hugging Face library, the post-processor decides what encoding adds.
        int added = addedBos(file, tok.path("post_processor"), byText);
        boolean addBos = added >= 0;
        int bos = addBos ? added : specials.bos();
        boolean byteFallback = model.path("byte_fallback").asBoolean(false);
        JsonNode norm = tok.path("normalizer");
        JsonNode pre = tok.path("pre_tokenizer");

        if (!byteFallback) {
            if (!isNull(norm)) {
                throw unsupported(file, "a normalizer with byte-level BPE: " + norm.path("type").asText());
            }
            PreTokenizer pattern = byteLevelPattern(file, pre);
            boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);
            if (ignoreMerges != (pattern == PreTokenizer.LLAMA3)) {
                throw unsupported(file, "ignore_merges = " + ignoreMerges + " with the " + pattern + " pattern");
            }
            String preName = switch (pattern) {
                case GPT2 -> "gpt2";
                case LLAMA3 -> "llama-bpe";
                case QWEN2 -> "qwen2";
                case TEKKEN -> "tekken";
                case GPT4O -> "gpt-4o";
                case SMOLLM -> "smollm";
            };
            GgufVocab v = new GgufVocab("gpt2", preName, tokens, new float[n], types, merges, bos, specials.eos(),
                    -1, -1, addBos, false, false);
            return new BpeTokenizer(v, specials.eog());
        }

        SpmTokenizer.Prefix prefix;
        boolean addSpace;
        if (isLegacyNormalizer(norm) && isNull(pre)) {
            prefix = SpmTokenizer.Prefix.EVERY_FRAGMENT;
            addSpace = true;
        } else if (isSpaceOnlyNormalizer(norm) && isNull(pre)) {
            prefix = SpmTokenizer.Prefix.EVERY_FRAGMENT;
            addSpace = false;
        } else if (isNull(norm) && "Metaspace".equals(pre.path("type").asText())) {
            if (!"\u2581".equals(pre.path("replacement").asText()) || pre.path("split").asBoolean(true)) {
                throw unsupported(file, "a Metaspace pre-tokenizer that splits words or uses another marker");
            }
            String scheme = pre.path("prepend_scheme").asText(pre.path("add_prefix_space").asBoolean(true) ? "always" : "never");
            prefix = scheme.equals("first") ? SpmTokenizer.Prefix.METASPACE_FIRST : SpmTokenizer.Prefix.METASPACE_ALWAYS;
            addSpace = !scheme.equals("never");
        } else {
            throw unsupported(file, "normalizer " + norm.path("type").asText("null") + " with pre-tokenizer "
                    + pre.path("type").asText("null"));
        }
        float[] scores = new float[n];
        Arrays.fill(scores, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < merges.size(); r++) {
            String m = merges.get(r);
            Integer id = byText.get(m.replace(" ", ""));
            if (id != null && scores[id] == Float.NEGATIVE_INFINITY) {
                scores[id] = -r;
            }
        }
        for (int i = 0; i < n; i++) {
            if (types[i] == TokenType.NORMAL && SpmTokenizer.parseByteToken(tokens[i]) >= 0) {
                types[i] = TokenType.BYTE;
            }
            if (scores[i] == Float.NEGATIVE_INFINITY) {
                scores[i] = -merges.size() - i;
            }
        }
        String unkText = model.path("unk_token").asText(null);
        int unk = unkText == null ? -1 : byText.getOrDefault(unkText, -1);
        if (unk >= 0) {
            types[unk] = TokenType.UNKNOWN;
        }
        GgufVocab v = new GgufVocab("llama", null, tokens, scores, types, List.of(), bos, specials.eos(), unk, -1,
                addBos, false, addSpace);
        return new SpmTokenizer(v, prefix, specials.eog());
    }

    private static boolean isNull(JsonNode n) {
        return n.isMissingNode() || n.isNull();
    }

    /** Prepend("▁") then Replace(" " → "▁"), Llama 2's legacy layout. */
    private static boolean isLegacyNormalizer(JsonNode norm) {
        JsonNode ns = norm.path("normalizers");
        return "Sequence".equals(norm.path("type").asText()) && ns.size() == 2
                && "Prepend".equals(ns.get(0).path("type").asText()) && "\u2581".equals(ns.get(0).path("prepend").asText())
                && isSpaceReplace(ns.get(1));
    }

    private static boolean isSpaceOnlyNormalizer(JsonNode norm) {
        if (isSpaceReplace(norm)) {
            return true;
        }
        JsonNode ns = norm.path("normalizers");
        return "Sequence".equals(norm.path("type").asText()) && ns.size() == 1 && isSpaceReplace(ns.get(0));
    }

    private static boolean isSpaceReplace(JsonNode r) {
        return "Replace".equals(r.path("type").asText()) && " ".equals(r.path("pattern").path("String").asText(null))
                && "\u2581".equals(r.path("content").asText());
    }

    private static PreTokenizer byteLevelPattern(Path file, JsonNode pre) {
        String type = pre.path("type").asText("");
        if (type.equals("ByteLevel")) {
            if (pre.path("add_prefix_space").asBoolean(false) || !pre.path("use_regex").asBoolean(true)) {
                throw unsupported(file, "a ByteLevel pre-tokenizer with add_prefix_space or without its regex");
            }
            return PreTokenizer.GPT2;
        }
        JsonNode ps = pre.path("pretokenizers");
        // SmolLM's: every digit alone, then GPT-2's ByteLevel regex.
        if (type.equals("Sequence") && ps.size() == 2 && "Digits".equals(ps.get(0).path("type").asText())
                && ps.get(0).path("individual_digits").asBoolean(false)
                && "ByteLevel".equals(ps.get(1).path("type").asText()) && ps.get(1).path("use_regex").asBoolean(true)
                && !ps.get(1).path("add_prefix_space").asBoolean(false)) {
            return PreTokenizer.SMOLLM;
        }
        if (type.equals("Sequence") && ps.size() == 2 && "Split".equals(ps.get(0).path("type").asText())
                && "ByteLevel".equals(ps.get(1).path("type").asText())
                && !ps.get(1).path("use_regex").asBoolean(true) && !ps.get(1).path("add_prefix_space").asBoolean(false)
                && "Isolated".equals(ps.get(0).path("behavior").asText()) && !ps.get(0).path("invert").asBoolean(false)) {
            String regex = ps.get(0).path("pattern").path("Regex").asText("");
            for (PreTokenizer p : PreTokenizer.values()) {
                if (regex.equals(p.regex())) {
                    return p;
                }
            }
            throw unsupported(file, "the word-splitting regex " + regex);
        }
        throw unsupported(file, "pre-tokenizer " + (type.isEmpty() ? "null" : type) + " for byte-level BPE");
    }

    /** Merges as "left right", from either the string or the two-element-array form. */
    private static List<String> merges(Path file, JsonNode node) {
        List<String> merges = new ArrayList<>(node.size());
        for (JsonNode m : node) {
            if (m.isTextual()) {
                merges.add(m.asText());
            } else if (m.isArray() && m.size() == 2) {
                if (m.get(0).asText().contains(" ") || m.get(1).asText().contains(" ")) {
                    throw unsupported(file, "a merge of pieces containing spaces: " + m);
                }
                merges.add(m.get(0).asText() + " " + m.get(1).asText());
            } else {
                throw new TokenizerException(file + ": merge " + m + " is neither 'left right' nor [left, right]");
            }
        }
        return merges;
    }

    /**
     * The id of the special token a TemplateProcessing post-processor (alone or in a Sequence) puts in front of a
     * single text, or -1 if it adds nothing in front; other post-processors that add tokens are refused.
     */
    private static int addedBos(Path file, JsonNode pp, Map<String, Integer> byText) {
        if (isNull(pp)) {
            return -1;
        }
        String type = pp.path("type").asText();
        if (type.equals("Sequence")) {
            int bos = -1;
            for (JsonNode p : pp.path("processors")) {
                int b = addedBos(file, p, byText);
                if (b >= 0) bos = b;
            }
            return bos;
        }
        if (type.equals("ByteLevel")) {
            return -1;
        }
        if (!type.equals("TemplateProcessing")) {
            throw unsupported(file, "post-processor " + type);
        }
        JsonNode single = pp.path("single");
        int bos = -1;
        for (int i = 0; i < single.size(); i++) {
            JsonNode special = single.get(i).path("SpecialToken");
            if (special.isMissingNode()) {
                continue;
            }
            if (i != 0) {
                throw unsupported(file, "a post-processor that appends special tokens");
            }
            String name = special.path("id").asText();
            JsonNode ids = pp.path("special_tokens").path(name).path("ids");
            Integer id = ids.size() == 1 ? Integer.valueOf(ids.get(0).asInt()) : byText.get(name);
            if (id == null) {
                throw new TokenizerException(file + ": post-processor adds unknown token " + name);
            }
            bos = id;
        }
        return bos;
    }

    private static TokenizerException unsupported(Path file, String what) {
        return new TokenizerException(file + ": flashllm's built-in tokenizer does not handle " + what);
    }
}
