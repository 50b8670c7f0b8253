package io.flashllm.engine.grammar;

/**
 * A context-free grammar over Unicode code points, in the form the matcher walks: each rule is a list of
 * alternatives, each alternative a sequence of elements, and an element is either a character class or a
 * reference to a rule. Repetition and grouping were turned into helper rules by the parser, so there is
 * nothing else. Immutable; one grammar serves any number of matchers.
 */
public final class Grammar {
    final String[] names;
    /** rule, alternative, element; an element {@code >= 0} is a rule id, {@code < 0} the class {@code -e - 1}. */
    final int[][][] alternatives;
    final CharClass[] classes;
    final int root;
    private final String source;
    private final String trigger;

    Grammar(String[] names, int[][][] alternatives, CharClass[] classes, int root, String source) {
        this(names, alternatives, classes, root, source, null);
    }

    private Grammar(String[] names, int[][][] alternatives, CharClass[] classes, int root, String source, String trigger) {
        this.names = names;
        this.alternatives = alternatives;
        this.classes = classes;
        this.root = root;
        this.source = source;
        this.trigger = trigger;
    }

    /**
     * This grammar, applied lazily: the output is free until {@code trigger} appears in it, and from the
     * trigger's first character on it must be a sentence of the grammar (whose sentences therefore start
     * with the trigger). A tool call in "auto" mode: the model may answer in words, or open a call, which
     * is then held to the tools' schemas.
     */
    public Grammar triggeredBy(String trigger) {
        if (trigger == null || trigger.isEmpty()) throw new IllegalArgumentException("a trigger must not be empty");
        return new Grammar(names, alternatives, classes, root, source, trigger);
    }

    /**
     * This grammar after a thinking model's thinking: free text until {@code close} (the closing tag), then
     * the tag, at most two newlines, and a sentence of this grammar. A JSON schema then shapes the answer
     * and leaves the thinking before it alone.
     */
    public Grammar afterThinking(String close) {
        if (close == null || close.isEmpty()) throw new IllegalArgumentException("a closing tag must not be empty");
        int n = names.length;
        String[] ns = java.util.Arrays.copyOf(names, n + 2);
        ns[n] = "after-thinking-newline";
        ns[n + 1] = "after-thinking";
        CharClass[] cs = java.util.Arrays.copyOf(classes, classes.length + 1);
        cs[classes.length] = CharClass.single('\n');
        int newline = -(classes.length) - 1;
        int[] tag = close.codePoints().toArray();
        int[] head = new int[tag.length + 3];
        for (int i = 0; i < tag.length; i++) {
            cs = java.util.Arrays.copyOf(cs, cs.length + 1);
            cs[cs.length - 1] = CharClass.single(tag[i]);
            head[i] = -(cs.length - 1) - 1;
        }
        head[tag.length] = n;
        head[tag.length + 1] = n;
        head[tag.length + 2] = root;
        int[][][] alts = java.util.Arrays.copyOf(alternatives, n + 2);
        alts[n] = new int[][] {{newline}, {}};
        alts[n + 1] = new int[][] {head};
        return new Grammar(ns, alts, cs, n + 1, close + " \\n? \\n? (" + source + ")", close);
    }

    /** The text that switches this grammar on, or null when it holds from the first token. */
    public String trigger() {
        return trigger;
    }

    /**
     * Reads a grammar in llama.cpp's GBNF: {@code name ::= ...} rules with {@code root} the start, string
     * literals, character classes ({@code [a-z]}, {@code [^"]}), {@code .}, groups, {@code |}, and the
     * repetitions {@code * + ? {m} {m,} {m,n}}; {@code #} starts a comment.
     *
     * @throws GrammarException naming the fault and its line and column, an undefined rule, a missing
     *                          {@code root}, or a left-recursive rule (which no left-to-right matcher can follow)
     */
    public static Grammar parse(String gbnf) {
        return new GbnfParser(gbnf).parse();
    }

    /** The text this grammar was read from. */
    public String source() {
        return source;
    }

    static boolean isRule(int element) {
        return element >= 0;
    }

    CharClass charClass(int element) {
        return classes[-element - 1];
    }
}
