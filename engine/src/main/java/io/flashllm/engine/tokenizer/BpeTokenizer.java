package io.flashllm.engine.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Byte-level BPE vocabulary ({@code tokenizer.ggml.model = gpt2}) tokenized like llama.cpp and Hugging Face: the
 * text is cut into words by the pre-tokenizer regex, each word's UTF-8 bytes are mapped to GPT-2's byte
 * characters, and adjacent symbols are merged by merge rank (lowest first, leftmost on ties).
 */
final class BpeTokenizer extends GgufTokenizer {
    private static final System.Logger LOG = System.getLogger(BpeTokenizer.class.getName());

    private final TextIds ranks;
    private final PreTokenizer preTokenizer;
    /** Llama 3 style: a word that is itself a token is taken whole, before any merging. */
    private final boolean ignoreMerges;

    BpeTokenizer(GgufVocab vocab) {
        this(vocab, null);
    }

    BpeTokenizer(GgufVocab vocab, int[] eog) {
        super(vocab, eog);
        List<String> merges = vocab.merges();
        for (int r = 0; r < merges.size(); r++) {
            String m = merges.get(r);
            int sp = m.indexOf(' ', 1);
            if (sp <= 0 || sp == m.length() - 1 || m.indexOf(' ', sp + 1) >= 0) {
                throw new TokenizerException("tokenizer.ggml.merges[" + r + "] = '" + m + "' is not 'left right'");
            }
        }
        ranks = TextIds.of(merges.toArray(String[]::new));
        if (!PreTokenizer.isKnown(vocab.pre())) {
            LOG.log(System.Logger.Level.WARNING, "unknown tokenizer.ggml.pre '" + vocab.pre()
                    + "': splitting words with the GPT-2 pattern; tokens may differ from the original tokenizer");
        }
        preTokenizer = PreTokenizer.forGgufPre(vocab.pre());
        ignoreMerges = preTokenizer == PreTokenizer.LLAMA3;
    }

    private record Pair(int rank, int left, int right, int size) {}

    @Override
    void encodeRaw(String raw, boolean afterSpecial, boolean atStart, IntList out) {
        for (String word : preTokenizer.split(raw)) {
            encodeWord(ByteUnicode.encode(word.getBytes(StandardCharsets.UTF_8)), out);
        }
    }

    private void encodeWord(String w, IntList out) {
        if (ignoreMerges) {
            int whole = byText.get(w);
            if (whole >= 0) {
                out.add(whole);
                return;
            }
        }
        // Every mapped byte is one char, so symbols start as single chars.
        int n = w.length();
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Pair> queue = new PriorityQueue<>((a, b) -> a.rank != b.rank
                ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            addPair(w, i - 1, i, len, queue);
        }
        while (!queue.isEmpty()) {
            Pair p = queue.poll();
            int l = p.left, r = p.right;
            if (len[l] == 0 || len[r] == 0 || len[l] + len[r] != p.size || next[l] != r) {
                continue;
            }
            len[l] += len[r];
            len[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0) {
                addPair(w, prev[l], l, len, queue);
            }
            if (next[l] >= 0) {
                addPair(w, l, next[l], len, queue);
            }
        }
        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) {
            String piece = w.substring(i, i + len[i]);
            int id = byText.get(piece);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            // A symbol no merge produced a token for: spell it byte by byte.
            for (int k = 0; k < piece.length(); k++) {
                int b = byText.get(String.valueOf(piece.charAt(k)));
                if (b < 0) {
                    throw new TokenizerException("byte-level vocabulary lacks the byte symbol '" + piece.charAt(k) + "'");
                }
                out.add(b);
            }
        }
    }

    private void addPair(String w, int left, int right, int[] len, PriorityQueue<Pair> queue) {
        String key = w.substring(left, left + len[left]) + ' ' + w.substring(right, right + len[right]);
        int rank = ranks.get(key);
        if (rank >= 0) {
            queue.add(new Pair(rank, left, right, len[left] + len[right]));
        }
    }

    @Override
    byte[] pieceBytes(int id) {
        return ByteUnicode.decode(vocab.tokens()[id]);
    }
}
