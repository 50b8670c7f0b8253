package io.flashllm.engine.grammar;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
    /** A lazy grammar's trigger (null: in force from the start), and the output's last bytes while it sleeps. */
    private final byte[] trigger;
    private byte[] tail = new byte[0];
    private boolean active;
    private final Map<GrammarMatcher.State, BitSet> masks = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<GrammarMatcher.State, BitSet> e) {
            return size() > CACHED_MASKS;
        }
    };

    public TokenConstraint(Grammar grammar, TokenTrie trie) {
        this.matcher = new GrammarMatcher(grammar);
        this.trie = trie;
        this.trigger = grammar.trigger() == null ? null : grammar.trigger().getBytes(StandardCharsets.UTF_8);
        this.active = trigger == null;
    }

    /** Whether the grammar is in force (a lazy one: its trigger has appeared). */
    public boolean active() {
        return active;
    }

    public int vocab() {
        return trie.vocab;
    }

    /** Whether {@code token} may come next. */
    public boolean allows(int token) {
        if (token < 0 || token >= trie.vocab) return false;
        if (!active) return dormantAllows(token);
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
        if (trie.endsGeneration[token]) return;
        if (active) {
            matcher.acceptBytes(trie.bytes[token]);
            return;
        }
        byte[] text = withTail(token);
        int at = indexOf(text, trigger);
        if (at >= 0) {
            matcher.acceptBytes(Arrays.copyOfRange(text, at, text.length));
            active = true;
        } else {
            // Keep just enough to find a trigger that the next tokens complete.
            tail = Arrays.copyOfRange(text, Math.max(0, text.length - (trigger.length - 1)), text.length);
        }
    }

    /**
     * While a lazy grammar sleeps any token may come, except one that brings the trigger followed by text
     * the grammar refuses.
     */
    private boolean dormantAllows(int token) {
        if (trie.endsGeneration[token]) return true;
        byte[] text = withTail(token);
        int at = indexOf(text, trigger);
        if (at < 0) return true;
        GrammarMatcher.State s = matcher.startState();
        for (int i = at; i < text.length && s != null; i++) s = matcher.step(s, text[i] & 0xFF);
        return s != null;
    }

    private byte[] withTail(int token) {
        byte[] b = trie.bytes[token];
        byte[] text = Arrays.copyOf(tail, tail.length + b.length);
        System.arraycopy(b, 0, text, tail.length, b.length);
        return text;
    }

    private static int indexOf(byte[] text, byte[] what) {
        outer:
        for (int i = 0; i + what.length <= text.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (text[i + j] != what[j]) continue outer;
            }
            return i;
        }
        return -1;
    }

    /** The text is a whole sentence and nothing may follow: generation is over. */
    public boolean finished() {
        return active && matcher.canEnd() && !matcher.canContinue();
    }


    /**
     * Sets the logits of every token that may not come next to negative infinity; returns how many may.
     * {@code logits} needs at least {@link #vocab()} entries.
     */
    public int mask(float[] logits) {
        if (!active) {
            // Rare (only a token that opens the grammar wrongly is refused): each token is asked on its own.
            int n = 0;
            for (int t = 0; t < trie.vocab; t++) {
                if (dormantAllows(t)) n++;
                else logits[t] = Float.NEGATIVE_INFINITY;
            }
            return n;
        }
        BitSet allowed = allowed();
        int n = 0;
        for (int t = 0; t < trie.vocab; t++) {
            if (allowed.get(t)) n++;
            else logits[t] = Float.NEGATIVE_INFINITY;
        }
        return n;
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
