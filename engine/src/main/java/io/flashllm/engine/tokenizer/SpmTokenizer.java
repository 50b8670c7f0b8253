package io.flashllm.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece vocabulary ({@code tokenizer.ggml.model = llama}) tokenized like llama.cpp: spaces become "▁", a
 * space is put in front of the text and after every special token, adjacent symbols are merged greedily by the
 * score of the piece they would form (highest first, leftmost on ties), and characters that end up in no piece
 * are spelled as {@code <0xXX>} byte tokens.
 */
final class SpmTokenizer extends GgufTokenizer {
    static final char SPACE = '\u2581';

    /** Where the word marker goes in front of text (when the vocabulary asks for one). */
    enum Prefix {
        /** llama.cpp and Hugging Face's legacy Prepend normalizer: before every text fragment, always. */
        EVERY_FRAGMENT,
        /** Hugging Face Metaspace, prepend_scheme "always": before every fragment not already starting with a space. */
        METASPACE_ALWAYS,
        /** Hugging Face Metaspace, prepend_scheme "first": only at the very start of the text, unless it is a space. */
        METASPACE_FIRST
    }

    private final Prefix prefix;

    /** Pieces merging may form: control, byte and unused entries are left out so text never turns into them. */
    private final TextIds mergeable;
    private final int[] byteTokens = new int[256];

    SpmTokenizer(GgufVocab vocab) {
        this(vocab, Prefix.EVERY_FRAGMENT, null);
    }

    SpmTokenizer(GgufVocab vocab, Prefix prefix, int[] eog) {
        super(vocab, eog);
        this.prefix = prefix;
        int[] types = vocab.types();
        mergeable = TextIds.of(vocab.tokens(), i -> types[i] == TokenType.NORMAL || types[i] == TokenType.USER_DEFINED
                || types[i] == TokenType.UNDEFINED);
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = byText.getOrDefault(String.format("<0x%02X>", b), vocab.unk());
        }
    }

    private record Bigram(float score, int left, int right, int size) {}

    @Override
    void encodeRaw(String raw, boolean afterSpecial, boolean atStart, IntList out) {
        boolean prepend = vocab.addSpacePrefix() && switch (prefix) {
            case EVERY_FRAGMENT -> afterSpecial;
            case METASPACE_ALWAYS -> !startsWithSpace(raw);
            case METASPACE_FIRST -> atStart && !startsWithSpace(raw);
        };
        String text = (prepend ? " " + raw : raw).replace(' ', SPACE);
        // Symbols are code points, kept as a linked list over the text.
        int n = text.codePointCount(0, text.length());
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, pos = 0; i < n; i++) {
            int cp = text.codePointAt(pos);
            start[i] = pos;
            len[i] = Character.charCount(cp);
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            pos += len[i];
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score
                ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            addBigram(text, i - 1, i, start, len, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            int l = bg.left, r = bg.right;
            // Stale if either side was merged away or grew since this bigram was queued.
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != bg.size || next[l] != r) {
                continue;
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                addBigram(text, prev[l], l, start, len, queue);
            }
            if (next[l] >= 0) {
                addBigram(text, l, next[l], start, len, queue);
            }
        }
        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) {
            String piece = text.substring(start[i], start[i] + len[i]);
            int id = byText.get(piece);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
                    int t = byteTokens[b & 0xFF];
                    if (t < 0) {
                        throw new TokenizerException("vocabulary has neither a byte token <0x"
                                + String.format("%02X", b & 0xFF) + "> nor an unknown token for '" + piece + "'");
                    }
                    out.add(t);
                }
            }
        }
    }

    private static boolean startsWithSpace(String raw) {
        return !raw.isEmpty() && (raw.charAt(0) == ' ' || raw.charAt(0) == SPACE);
    }

    private void addBigram(String text, int left, int right, int[] start, int[] len, PriorityQueue<Bigram> queue) {
        int size = len[left] + len[right];
        int id = mergeable.get(text.substring(start[left], start[left] + size));
        if (id >= 0) {
            queue.add(new Bigram(vocab.scores()[id], left, right, size));
        }
    }

    @Override
    byte[] pieceBytes(int id) {
        String t = vocab.tokens()[id];
        if (vocab.types()[id] == TokenType.BYTE) {
            int b = parseByteToken(t);
            if (b >= 0) {
                return new byte[] {(byte) b};
            }
        }
        return t.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** 0..255 for text of the form {@code <0xXX>}, else -1. */
    static int parseByteToken(String t) {
        if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
            try {
                return Integer.parseInt(t.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    @Override
    boolean stripLeadingSpace() {
        return vocab.addSpacePrefix();
    }
}
