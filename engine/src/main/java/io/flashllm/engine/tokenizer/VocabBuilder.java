package io.flashllm.engine.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a deterministic, usable vocabulary of a given size for synthetic models: pieces are learned by BPE from a
 * small built-in English text (so common words are single tokens), then, when more tokens are asked for than the
 * text yields, extended by joining learned word-start pieces with learned continuation pieces.
 *
 * <ul>
 *   <li>{@link Style#SPM}: SentencePiece/Llama 2 layout — {@code <unk> <s> </s>}, the 256 {@code <0xXX>} byte
 *       tokens, characters, then "▁"-prefixed and plain pieces with score = −rank.</li>
 *   <li>{@link Style#GPT2}: byte-level BPE — the 256 byte symbols, merged pieces, then
 *       {@code <|endoftext|> <|im_start|> <|im_end|>}; GPT-2 word splitting.</li>
 *   <li>{@link Style#LLAMA3}: byte-level BPE with Llama 3 word splitting and its chat tokens
 *       ({@code <|begin_of_text|>} added as BOS).</li>
 * </ul>
 * The result converts to GGUF metadata and to an equivalent {@code tokenizer.json}; the GGUF tokenizer and the
 * Hugging Face library encode text identically with them.
 */
public final class VocabBuilder {
    public enum Style { SPM, GPT2, LLAMA3, HARMONY }

    /** The smallest vocabulary that still has room for every special and byte token plus a few pieces. */
    public static final int MIN_SIZE = 268;

    private static final String[] SPM_SPECIALS = {"<unk>", "<s>", "</s>"};
    private static final String[] GPT2_SPECIALS = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    private static final String[] LLAMA3_SPECIALS = {
        "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
    /** gpt-oss's (o200k_harmony): its text markers, the message and channel markers of its chat format. */
    private static final String[] HARMONY_SPECIALS = {
        "<|startoftext|>", "<|endoftext|>", "<|return|>", "<|constrain|>", "<|channel|>", "<|start|>", "<|end|>",
        "<|message|>", "<|call|>"};

    private VocabBuilder() {}

    public static BuiltVocab build(Style style, int size) {
        if (size < MIN_SIZE) {
            throw new IllegalArgumentException("vocabulary size " + size + " is below the minimum of " + MIN_SIZE);
        }
        return style == Style.SPM ? buildSpm(size) : buildByteLevel(style, size);
    }

    static String corpus() {
        try (InputStream in = VocabBuilder.class.getResourceAsStream("vocab-corpus.txt")) {
            if (in == null) {
                throw new IllegalStateException("vocab-corpus.txt missing from the engine jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BuiltVocab buildSpm(int size) {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (String s : SPM_SPECIALS) {
            tokens.add(s);
            types.add(s.equals("<unk>") ? TokenType.UNKNOWN : TokenType.CONTROL);
        }
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(TokenType.BYTE);
        }
        // Words as SentencePiece sees them: each whitespace-separated word with "▁" in front.
        List<List<String>> words = new ArrayList<>();
        Map<String, Integer> charFreq = new HashMap<>();
        for (String w : corpus().split("\\s+")) {
            if (w.isEmpty()) continue;
            String piece = SpmTokenizer.SPACE + w;
            List<String> chars = new ArrayList<>();
            piece.codePoints().forEach(cp -> {
                String c = new String(Character.toChars(cp));
                chars.add(c);
                charFreq.merge(c, 1, Integer::sum);
            });
            words.add(chars);
        }
        List<String> chars = new ArrayList<>(charFreq.keySet());
        chars.sort((a, b) -> charFreq.get(a).equals(charFreq.get(b)) ? a.compareTo(b) : charFreq.get(b) - charFreq.get(a));
        int room = size - tokens.size();
        Set<String> pieces = new HashSet<>();
        for (String c : chars.subList(0, Math.min(chars.size(), room))) {
            tokens.add(c);
            types.add(TokenType.NORMAL);
            pieces.add(c);
        }
        List<String> merged = new ArrayList<>();
        for (BpeTrainer.Merge m : new BpeTrainer(BpeTrainer.countWords(words)).train(size - tokens.size(), pieces)) {
            merged.add(m.piece());
        }
        addPieces(merged, tokens, types, size);
        extend(tokens, types, null, size, String.valueOf(SpmTokenizer.SPACE));
        return BuiltVocab.spm(tokens, types);
    }

    private static BuiltVocab buildByteLevel(Style style, int size) {
        String[] specials = switch (style) {
            case GPT2 -> GPT2_SPECIALS;
            case HARMONY -> HARMONY_SPECIALS;
            default -> LLAMA3_SPECIALS;
        };
        PreTokenizer pre = switch (style) {
            case GPT2 -> PreTokenizer.GPT2;
            case HARMONY -> PreTokenizer.GPT4O;
            default -> PreTokenizer.LLAMA3;
        };
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        Set<String> symbols = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            String c = String.valueOf(ByteUnicode.toChar(b));
            tokens.add(c);
            types.add(TokenType.NORMAL);
            symbols.add(c);
        }
        int target = size - specials.length;
        List<List<String>> words = new ArrayList<>();
        for (String w : pre.split(corpus())) {
            String mapped = ByteUnicode.encode(w.getBytes(StandardCharsets.UTF_8));
            List<String> chars = new ArrayList<>();
            for (int i = 0; i < mapped.length(); i++) {
                chars.add(String.valueOf(mapped.charAt(i)));
            }
            words.add(chars);
        }
        List<String> merges = new ArrayList<>();
        for (BpeTrainer.Merge m : new BpeTrainer(BpeTrainer.countWords(words)).train(target - tokens.size(), symbols)) {
            if (!tokens.contains(m.piece())) {
                merges.add(m.left() + " " + m.right());
                tokens.add(m.piece());
                types.add(TokenType.NORMAL);
            }
        }
        extend(tokens, types, merges, target, "\u0120");
        for (String s : specials) {
            tokens.add(s);
            types.add(TokenType.CONTROL);
        }
        return BuiltVocab.byteLevel(style, tokens, types, merges);
    }

    private static void addPieces(List<String> pieces, List<String> tokens, List<Integer> types, int size) {
        Set<String> have = new HashSet<>(tokens);
        for (String p : pieces) {
            if (tokens.size() >= size) return;
            if (have.add(p)) {
                tokens.add(p);
                types.add(TokenType.NORMAL);
            }
        }
    }

    /**
     * Grows the vocabulary to {@code size} with pieces "word start + continuation" made of learned pieces, in a
     * fixed diagonal order so frequent pieces combine first. Each new piece is one merge of two existing ones.
     */
    private static void extend(List<String> tokens, List<Integer> types, List<String> merges, int size, String wordMark) {
        if (tokens.size() >= size) {
            return;
        }
        List<String> starts = new ArrayList<>();
        List<String> conts = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (types.get(i) != TokenType.NORMAL || t.codePointCount(0, t.length()) < 2) continue;
            if (t.startsWith(wordMark)) {
                starts.add(t);
            } else if (t.codePoints().allMatch(Character::isLetter)) {
                conts.add(t);
            }
        }
        if (starts.isEmpty() || conts.isEmpty()) {
            throw new IllegalArgumentException("vocabulary size " + size + " needs more pieces than can be built");
        }
        Set<String> have = new HashSet<>(tokens);
        for (int diag = 0; diag < starts.size() + conts.size() - 1; diag++) {
            for (int i = Math.max(0, diag - conts.size() + 1); i <= Math.min(diag, starts.size() - 1); i++) {
                String a = starts.get(i), b = conts.get(diag - i);
                String p = a + b;
                if (have.add(p)) {
                    tokens.add(p);
                    types.add(TokenType.NORMAL);
                    if (merges != null) {
                        merges.add(a + " " + b);
                    }
                    if (tokens.size() >= size) {
                        return;
                    }
                }
            }
        }
        throw new IllegalArgumentException("vocabulary size " + size + " is larger than this builder can make ("
                + tokens.size() + ")");
    }
}
