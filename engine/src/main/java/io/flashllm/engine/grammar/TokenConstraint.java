package io.flashllm.engine.grammar;

import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which tokens may come next so that the generated text stays a sentence of a grammar. A token is allowed
 * when all its bytes continue the grammar; a token that ends generation only when the text so far is a
 * whole sentence; control tokens never. A sampler first checks the token it picked and only when that one is
 * refused masks the whole vocabulary and picks again (what llama.cpp does): the result is the same as
 * masking first, and most tokens of a model that follows the format cost one check.
 * Not thread-safe: one per generation.
 */
public final class TokenConstraint {
    /** Masks kept for recurring states (inside a JSON string every character leads back to the same one). */
    private static final int CACHED_MASKS = 64;

    private final GrammarMatcher matcher;
    private final TokenTrie trie;
    private final Map<GrammarMatcher.State, BitSet> masks = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<GrammarMatcher.State, BitSet> e) {
            return size() > CACHED_MASKS;
        }
    };
    private int maskCount;

    public TokenConstraint(Grammar grammar, TokenTrie trie) {
        this.matcher = new GrammarMatcher(grammar);
        this.trie = trie;
    }

    public int vocab() {
        return trie.vocab;
    }

    /** Whether {@code token} may come next. */
    public boolean allows(int token) {
        if (token < 0 || token >= trie.vocab) return false;
        GrammarMatcher.State s = matcher.state();
        if (trie.endsGeneration[token]) return s.canEnd();
        byte[] b = trie.bytes[token];
        if (b.length == 0) return false;
        for (byte x : b) {
            s = matcher.step(s, x & 0xFF);
            if (s == null) return false;
        }
        return true;
    }

    /** Records {@code token} as generated; it must be {@link #allows allowed}. */
    public void accept(int token) {
        if (!allows(token)) throw new IllegalStateException("token " + token + " does not continue the grammar");
        if (!trie.endsGeneration[token]) matcher.acceptBytes(trie.bytes[token]);
    }

    /** The text is a whole sentence and nothing may follow: generation is over. */
    public boolean finished() {
        return matcher.canEnd() && !matcher.canContinue();
    }

    /** The text so far is a whole sentence of the grammar. */
    public boolean complete() {
        return matcher.canEnd();
    }

    /**
     * Sets the logits of every token that may not come next to negative infinity; returns how many may.
     * {@code logits} needs at least {@link #vocab()} entries.
     */
    public int mask(float[] logits) {
        BitSet allowed = allowed();
        int n = 0;
        for (int t = 0; t < trie.vocab; t++) {
            if (allowed.get(t)) n++;
            else logits[t] = Float.NEGATIVE_INFINITY;
        }
        return n;
    }

    /** How many times the whole vocabulary was walked (the slow path), for tests and figures. */
    public int masksComputed() {
        return maskCount;
    }

    private BitSet allowed() {
        GrammarMatcher.State s = matcher.state();
        BitSet known = masks.get(s);
        if (known != null) return known;
        BitSet allowed = new BitSet(trie.vocab);
        if (s.canEnd()) {
            for (int t = 0; t < trie.vocab; t++) {
                if (trie.endsGeneration[t]) allowed.set(t);
            }
        }
        walk(0, s, allowed);
        maskCount++;
        masks.put(s, allowed);
        return allowed;
    }

    private void walk(int node, GrammarMatcher.State s, BitSet allowed) {
        for (int c = trie.firstChild[node]; c >= 0; c = trie.nextSibling[c]) {
            GrammarMatcher.State next = matcher.step(s, trie.label[c] & 0xFF);
            if (next == null) continue;
            for (int t = trie.firstToken[c]; t >= 0; t = trie.nextToken[t]) {
                if (!trie.endsGeneration[t]) allowed.set(t);
            }
            walk(c, next, allowed);
        }
    }
}
