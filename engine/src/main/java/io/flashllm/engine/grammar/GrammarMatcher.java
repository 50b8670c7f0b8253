package io.flashllm.engine.grammar;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Follows a text through a {@link Grammar}, byte by byte, as the set of parse stacks that can still
 * continue it (llama.cpp's grammar sampler works the same way). A stack is a chain of {@link Frame}s, each
 * a position inside one alternative of one rule; the top frame always stands before a character class.
 *
 * <p>Frames and states are interned, so a state is identified by the object, and what a frame turns into
 * once its character matched is worked out once and kept: following a token is mostly table look-ups.
 * Generated text arrives as UTF-8 bytes (a token may end inside a character), so a state also carries an
 * unfinished character; it is accepted while some stack could still take one of the characters it may become.
 * Not thread-safe: one matcher per generation.
 */
public final class GrammarMatcher {
    /** A grammar whose stacks multiply past this is refused rather than followed slowly. */
    static final int MAX_STACKS = 4096;
    /** Expansion recurses through rules and through parts that may be empty; a thread's stack is finite. */
    static final int MAX_EXPANSION_DEPTH = 2000;

    private final Grammar grammar;
    private final Map<Frame, Frame> frames = new HashMap<>();
    private final Map<StateKey, State> states = new HashMap<>();
    private final State start;
    private State state;

    public GrammarMatcher(Grammar grammar) {
        this.grammar = grammar;
        Builder b = new Builder();
        for (int a = 0; a < grammar.alternatives[grammar.root].length; a++) expand(grammar.root, a, 0, null, b);
        this.start = intern(b);
        this.state = start;
    }

    /** A position in a rule's alternative, and the frame to resume once that alternative is done. */
    static final class Frame {
        final int rule;
        final int alt;
        final int pos;
        final Frame next;
        final int id;
        /** The state after this frame's character matched (no unfinished character); worked out on first use. */
        State advanced;

        Frame(int rule, int alt, int pos, Frame next, int id) {
            this.rule = rule;
            this.alt = alt;
            this.pos = pos;
            this.next = next;
            this.id = id;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Frame f && f.rule == rule && f.alt == alt && f.pos == pos && f.next == next;
        }

        @Override
        public int hashCode() {
            return ((rule * 31 + alt) * 31 + pos) * 31 + (next == null ? 0 : next.id);
        }
    }

    /** Where the text stands: the stacks that can continue it, whether it may end here, an unfinished character. */
    public static final class State {
        final Frame[] stacks;
        final boolean complete;
        /** The bits of an unfinished UTF-8 character so far, and how many continuation bytes it still needs. */
        final int partial;
        final int remaining;
        /** How many bytes the unfinished character has in all. */
        final int width;

        State(Frame[] stacks, boolean complete, int partial, int remaining, int width) {
            this.stacks = stacks;
            this.complete = complete;
            this.partial = partial;
            this.remaining = remaining;
            this.width = width;
        }

        /** The text may end here: it is a whole sentence of the grammar. */
        public boolean canEnd() {
            return complete && remaining == 0;
        }

        /** Some character may still follow. */
        public boolean canContinue() {
            return stacks.length > 0;
        }
    }

    private record StateKey(int[] frameIds, boolean complete, int partial, int remaining, int width) {
        @Override
        public boolean equals(Object o) {
            return o instanceof StateKey k && k.complete == complete && k.partial == partial
                    && k.remaining == remaining && k.width == width && Arrays.equals(k.frameIds, frameIds);
        }

        @Override
        public int hashCode() {
            return ((Arrays.hashCode(frameIds) * 31 + partial) * 31 + remaining * 8 + width) * 2 + (complete ? 1 : 0);
        }
    }

    /** Collects the distinct frames of one expansion (or of the union of several states). */
    private static final class Builder {
        final List<Frame> stacks = new ArrayList<>();
        final Set<Frame> added = Collections.newSetFromMap(new IdentityHashMap<>());
        final Set<Frame> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        boolean complete;

        void add(Frame f) {
            if (!added.add(f)) return;
            if (stacks.size() == MAX_STACKS) {
                throw new GrammarException("the grammar is too ambiguous: more than " + MAX_STACKS
                        + " ways to read the text so far");
            }
            stacks.add(f);
        }
    }

    public State state() {
        return state;
    }

    public State startState() {
        return start;
    }

    /** Goes back to an earlier state of this matcher. */
    public void reset(State s) {
        state = s;
    }

    public boolean canEnd() {
        return state.canEnd();
    }

    public boolean canContinue() {
        return state.canContinue();
    }

    /** Follows {@code text}; false (the state unchanged) if some character cannot continue the grammar. */
    public boolean acceptText(String text) {
        return acceptBytes(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Follows UTF-8 bytes, all or nothing: false leaves the state as it was. */
    public boolean acceptBytes(byte[] bytes) {
        State s = state;
        for (byte b : bytes) {
            s = step(s, b & 0xFF);
            if (s == null) return false;
        }
        state = s;
        return true;
    }

    /** The state after one more byte, or null if no stack can take it. */
    public State step(State s, int b) {
        if (s.remaining == 0) {
            if (b < 0x80) return advance(s, b);
            int need, bits;
            if (b >= 0xC2 && b <= 0xDF) {
                need = 1;
                bits = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                need = 2;
                bits = b & 0x0F;
            } else if (b >= 0xF0 && b <= 0xF4) {
                need = 3;
                bits = b & 0x07;
            } else {
                return null; // a continuation byte with no lead, or a byte UTF-8 never uses
            }
            return unfinished(s, bits, need, need + 1);
        }
        if ((b & 0xC0) != 0x80) return null;
        int bits = s.partial << 6 | (b & 0x3F);
        if (s.remaining == 1) {
            if (bits < smallest(s.width) || (bits >= 0xD800 && bits <= 0xDFFF) || bits > CharClass.MAX) return null;
            return advance(s, bits);
        }
        return unfinished(s, bits, s.remaining - 1, s.width);
    }

    /** The smallest code point UTF-8 writes in {@code width} bytes (anything less would be an overlong form). */
    private static int smallest(int width) {
        return width == 2 ? 0x80 : width == 3 ? 0x800 : 0x10000;
    }

    private State unfinished(State s, int bits, int need, int width) {
        int lo = Math.max(bits << (6 * need), smallest(width));
        int hi = Math.min(((bits + 1) << (6 * need)) - 1, CharClass.MAX);
        if (lo > hi) return null;
        for (Frame f : s.stacks) {
            if (grammar.charClass(element(f)).intersects(lo, hi)) {
                return intern(s.stacks, s.complete, bits, need, width);
            }
        }
        return null;
    }

    /** The state after code point {@code cp}, or null. */
    State advance(State s, int cp) {
        State only = null;
        Builder b = null;
        for (Frame f : s.stacks) {
            if (!grammar.charClass(element(f)).contains(cp)) continue;
            State next = advanced(f);
            if (only == null && b == null) {
                only = next;
            } else {
                if (b == null) {
                    b = new Builder();
                    merge(b, only);
                }
                merge(b, next);
            }
        }
        if (b != null) return intern(b);
        return only;
    }

    private static void merge(Builder b, State s) {
        for (Frame f : s.stacks) b.add(f);
        b.complete |= s.complete;
    }

    private State advanced(Frame f) {
        State a = f.advanced;
        if (a == null) {
            Builder b = new Builder();
            expand(f.rule, f.alt, f.pos + 1, f.next, b);
            a = intern(b);
            f.advanced = a;
        }
        return a;
    }

    private int element(Frame f) {
        return grammar.alternatives[f.rule][f.alt][f.pos];
    }

    /** Brings a position to the characters it can take next, expanding rules and popping finished ones. */
    private void expand(int rule, int alt, int pos, Frame next, Builder out) {
        expand(rule, alt, pos, next, out, 0);
    }

    private void expand(int rule, int alt, int pos, Frame next, Builder out, int depth) {
        if (depth > MAX_EXPANSION_DEPTH) {
            throw new GrammarException("the grammar nests rules, or runs of parts that may be empty, more than "
                    + MAX_EXPANSION_DEPTH + " deep");
        }
        // Each position is expanded once per expansion: alternatives that may all be empty ("" | ""){n} would
        // otherwise be walked 2^n times.
        if (!out.visited.add(frame(rule, alt, pos, next))) return;
        int[] elements = grammar.alternatives[rule][alt];
        if (pos == elements.length) {
            if (next == null) out.complete = true;
            else expand(next.rule, next.alt, next.pos, next.next, out, depth + 1);
            return;
        }
        int e = elements[pos];
        if (!Grammar.isRule(e)) {
            out.add(frame(rule, alt, pos, next));
            return;
        }
        // A reference in last place returns straight to our caller: right recursion (x*) stays flat.
        Frame resume = pos + 1 == elements.length ? next : frame(rule, alt, pos + 1, next);
        int[][] alts = grammar.alternatives[e];
        for (int a = 0; a < alts.length; a++) expand(e, a, 0, resume, out, depth + 1);
    }

    private Frame frame(int rule, int alt, int pos, Frame next) {
        Frame probe = new Frame(rule, alt, pos, next, frames.size());
        Frame known = frames.putIfAbsent(probe, probe);
        return known != null ? known : probe;
    }

    private State intern(Builder b) {
        return intern(b.stacks.toArray(new Frame[0]), b.complete, 0, 0, 0);
    }

    private State intern(Frame[] stacks, boolean complete, int partial, int remaining, int width) {
        int[] ids = new int[stacks.length];
        for (int i = 0; i < ids.length; i++) ids[i] = stacks[i].id;
        Arrays.sort(ids);
        StateKey key = new StateKey(ids, complete, partial, remaining, width);
        State known = states.get(key);
        if (known != null) return known;
        State s = new State(stacks, complete, partial, remaining, width);
        states.put(key, s);
        return s;
    }
}
