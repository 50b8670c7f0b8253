package io.flashllm.engine.grammar;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * GBNF text to a {@link Grammar}. A rule's body runs until the next {@code name ::=} or the end, so rules
 * may span lines freely. Groups and repetitions become helper rules: {@code x*} is {@code R ::= x R | ""}
 * (right recursion, which the matcher follows in constant depth), {@code x?} is {@code R ::= x | ""}, and
 * {@code x{m,n}} is m copies of x followed by n - m nested optional ones.
 */
final class GbnfParser {
    /** Repetition counts past this are refused: each optional copy is a rule. */
    static final int MAX_REPEAT = 10_000;
    /**
     * Groups nested deeper than this, or rules that reach this many others before their first character,
     * are refused: the parser and the matcher follow them by recursion, and a thread's stack is finite.
     */
    static final int MAX_DEPTH = 1_000;

    private final String src;
    private int pos;
    private final Map<String, Integer> ids = new HashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<int[][]> rules = new ArrayList<>();
    private final List<Integer> firstUse = new ArrayList<>();
    private final List<CharClass> classes = new ArrayList<>();

    GbnfParser(String src) {
        if (src == null) throw new GrammarException("the grammar is missing");
        this.src = src;
    }

    Grammar parse() {
        skipSpace();
        if (pos == src.length()) throw new GrammarException("the grammar is empty");
        while (pos < src.length()) {
            int at = pos;
            String name = name();
            if (name.isEmpty()) throw error("expected a rule name");
            skipSpace();
            if (!src.startsWith("::=", pos)) throw error("expected '::=' after the rule name '" + name + "'");
            pos += 3;
            int id = ruleId(name, at);
            if (rules.get(id) != null) throw errorAt(at, "the rule '" + name + "' is defined twice");
            rules.set(id, alternatives(0));
            skipSpace();
        }
        for (int i = 0; i < names.size(); i++) {
            if (rules.get(i) == null) {
                throw errorAt(firstUse.get(i), "the rule '" + names.get(i) + "' is used but never defined");
            }
        }
        Integer root = ids.get("root");
        if (root == null) throw new GrammarException("the grammar has no 'root' rule (where its sentences start)");
        int[][][] alts = rules.toArray(new int[0][][]);
        checkLeftRecursion(alts);
        return new Grammar(names.toArray(new String[0]), alts, classes.toArray(new CharClass[0]), root, src);
    }

    private int ruleId(String name, int usedAt) {
        Integer id = ids.get(name);
        if (id == null) {
            id = names.size();
            ids.put(name, id);
            names.add(name);
            rules.add(null);
            firstUse.add(usedAt);
        }
        return id;
    }

    private int helperRule(String kind, int[][] alts) {
        int id = names.size();
        String name = kind + "#" + id;
        ids.put(name, id);
        names.add(name);
        rules.add(alts);
        firstUse.add(pos);
        return id;
    }

    private int[][] alternatives(int depth) {
        List<int[]> alts = new ArrayList<>();
        alts.add(sequence(depth));
        while (pos < src.length() && src.charAt(pos) == '|') {
            pos++;
            alts.add(sequence(depth));
        }
        return alts.toArray(new int[0][]);
    }

    private int[] sequence(int depth) {
        List<Integer> seq = new ArrayList<>();
        while (true) {
            skipSpace();
            if (pos == src.length()) break;
            char c = src.charAt(pos);
            if (c == '|' || c == ')' || (depth == 0 && atRuleStart())) break;
            int start = pos;
            List<Integer> item = primary(depth);
            skipSpace();
            while (pos < src.length() && "*+?{".indexOf(src.charAt(pos)) >= 0) {
                item = List.of(repeat(single(item), start));
                skipSpace();
            }
            seq.addAll(item);
        }
        return seq.stream().mapToInt(Integer::intValue).toArray();
    }

    private int single(List<Integer> item) {
        if (item.size() == 1) return item.get(0);
        return helperRule("group", new int[][] {item.stream().mapToInt(Integer::intValue).toArray()});
    }

    private int repeat(int x, int start) {
        char op = src.charAt(pos++);
        switch (op) {
            case '*':
                return star(x);
            case '+':
                return helperRule("plus", new int[][] {{x, star(x)}});
            case '?':
                return helperRule("opt", new int[][] {{x}, {}});
            default:
                break;
        }
        int min = number();
        int max = min;
        skipInline();
        if (pos < src.length() && src.charAt(pos) == ',') {
            pos++;
            skipInline();
            max = pos < src.length() && Character.isDigit(src.charAt(pos)) ? number() : -1;
        }
        skipInline();
        if (pos >= src.length() || src.charAt(pos) != '}') throw error("expected '}' to close the repetition");
        pos++;
        if (max >= 0 && max < min) throw errorAt(start, "the repetition {" + min + "," + max + "} has its maximum below its minimum");
        if (min > MAX_REPEAT || max > MAX_REPEAT) throw errorAt(start, "repetitions above " + MAX_REPEAT + " are not supported");
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < min; i++) out.add(x);
        if (max < 0) {
            out.add(star(x));
        } else {
            int tail = -1;
            for (int i = min; i < max; i++) {
                int[] more = tail < 0 ? new int[] {x} : new int[] {x, tail};
                tail = helperRule("opt", new int[][] {more, {}});
            }
            if (tail >= 0) out.add(tail);
        }
        if (out.size() == 1) return out.get(0);
        return helperRule("rep", new int[][] {out.stream().mapToInt(Integer::intValue).toArray()});
    }

    private int star(int x) {
        int id = helperRule("star", null);
        rules.set(id, new int[][] {{x, id}, {}});
        return id;
    }

    private List<Integer> primary(int depth) {
        char c = src.charAt(pos);
        if (c == '"') {
            pos++;
            List<Integer> out = new ArrayList<>();
            while (true) {
                if (pos >= src.length()) throw error("the string literal is not closed");
                if (src.charAt(pos) == '"') {
                    pos++;
                    return out;
                }
                if (src.charAt(pos) == '\n') throw error("a string literal cannot span lines (write \\n)");
                out.add(classId(CharClass.single(character())));
            }
        }
        if (c == '[') return List.of(classId(charClass()));
        if (c == '.') {
            pos++;
            return List.of(classId(CharClass.any()));
        }
        if (c == '(') {
            if (depth >= MAX_DEPTH) throw error("groups nest more than " + MAX_DEPTH + " deep");
            int open = pos++;
            int[][] alts = alternatives(depth + 1);
            skipSpace();
            if (pos >= src.length() || src.charAt(pos) != ')') throw errorAt(open, "this '(' is not closed");
            pos++;
            return List.of(helperRule("group", alts));
        }
        int at = pos;
        String name = name();
        if (name.isEmpty()) throw error("unexpected '" + printable(c) + "'");
        return List.of(ruleId(name, at));
    }

    private CharClass charClass() {
        int open = pos++;
        boolean negated = pos < src.length() && src.charAt(pos) == '^';
        if (negated) pos++;
        List<Integer> pairs = new ArrayList<>();
        while (true) {
            if (pos >= src.length() || src.charAt(pos) == '\n') throw errorAt(open, "this '[' is not closed");
            if (src.charAt(pos) == ']') {
                pos++;
                break;
            }
            int lo = character();
            int hi = lo;
            if (pos + 1 < src.length() && src.charAt(pos) == '-' && src.charAt(pos + 1) != ']') {
                pos++;
                hi = character();
                if (hi < lo) throw error("the range in this class runs backwards");
            }
            pairs.add(lo);
            pairs.add(hi);
        }
        return CharClass.of(pairs.stream().mapToInt(Integer::intValue).toArray(), negated);
    }

    /** One character of a literal or class, escapes resolved. */
    private int character() {
        int cp = src.codePointAt(pos);
        pos += Character.charCount(cp);
        if (cp != '\\') return cp;
        if (pos >= src.length()) throw error("the escape is cut off");
        char e = src.charAt(pos++);
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'x' -> hex(2);
            case 'u' -> hex(4);
            case 'U' -> hex(8);
            case '\\', '"', '[', ']', '-', '^', '/', '\'' -> e;
            default -> throw error("unknown escape '\\" + printable(e) + "'");
        };
    }

    private int hex(int digits) {
        if (pos + digits > src.length()) throw error("expected " + digits + " hex digits");
        int v = 0;
        for (int i = 0; i < digits; i++) {
            int d = Character.digit(src.charAt(pos + i), 16);
            if (d < 0) throw errorAt(pos + i, "expected " + digits + " hex digits");
            v = v * 16 + d;
        }
        if (v > CharClass.MAX) throw error("the code point " + Integer.toHexString(v) + " is beyond Unicode");
        pos += digits;
        return v;
    }

    private int number() {
        int start = pos;
        while (pos < src.length() && Character.isDigit(src.charAt(pos))) pos++;
        if (start == pos) throw error("expected a number in the repetition");
        if (pos - start > 6) throw errorAt(start, "repetitions above " + MAX_REPEAT + " are not supported");
        return Integer.parseInt(src, start, pos, 10);
    }

    private String name() {
        int start = pos;
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') pos++;
            else break;
        }
        return src.substring(start, pos);
    }

    /** A rule definition starts here: a name, then {@code ::=}. */
    private boolean atRuleStart() {
        int save = pos;
        try {
            if (name().isEmpty()) return false;
            skipInline();
            return src.startsWith("::=", pos);
        } finally {
            pos = save;
        }
    }

    private void skipSpace() {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == '#') {
                while (pos < src.length() && src.charAt(pos) != '\n') pos++;
            } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                pos++;
            } else {
                return;
            }
        }
    }

    private void skipInline() {
        while (pos < src.length() && (src.charAt(pos) == ' ' || src.charAt(pos) == '\t')) pos++;
    }

    private int classId(CharClass c) {
        classes.add(c);
        return -classes.size();
    }

    /**
     * Refuses a rule that can reach itself before consuming a character: the matcher expands rules at the
     * front of each stack and would never stop.
     */
    private void checkLeftRecursion(int[][][] alts) {
        int n = alts.length;
        boolean[] nullable = new boolean[n];
        for (boolean changed = true; changed; ) {
            changed = false;
            for (int r = 0; r < n; r++) {
                if (nullable[r]) continue;
                for (int[] alt : alts[r]) {
                    boolean all = true;
                    for (int e : alt) {
                        if (!Grammar.isRule(e) || !nullable[e]) {
                            all = false;
                            break;
                        }
                    }
                    if (all) {
                        nullable[r] = true;
                        changed = true;
                        break;
                    }
                }
            }
        }
        int[] depth = new int[n]; // 0 not seen, -1 on the path, else how deep its leftmost expansion goes
        for (int r = 0; r < n; r++) visit(r, alts, nullable, depth, 0);
    }

    private int visit(int r, int[][][] alts, boolean[] nullable, int[] depth, int path) {
        if (depth[r] > 0) return depth[r];
        if (depth[r] < 0) {
            throw new GrammarException("the rule '" + userName(r) + "' is left-recursive (it can reach itself"
                    + " before any character); rewrite it with repetition, e.g. x ::= y (\",\" y)*");
        }
        if (path >= MAX_DEPTH) {
            throw new GrammarException("the rule '" + userName(r) + "' is reached through more than " + MAX_DEPTH
                    + " rules before any character; nest less deeply");
        }
        depth[r] = -1;
        int deepest = 0;
        for (int[] alt : alts[r]) {
            for (int e : alt) {
                if (!Grammar.isRule(e)) break;
                deepest = Math.max(deepest, visit(e, alts, nullable, depth, path + 1));
                if (!nullable[e]) break;
            }
        }
        if (deepest + 1 > MAX_DEPTH) {
            throw new GrammarException("the rule '" + userName(r) + "' reaches more than " + MAX_DEPTH
                    + " rules before any character; nest less deeply");
        }
        depth[r] = deepest + 1;
        return depth[r];
    }

    /** Helper rules are named after the rule they were written in. */
    private String userName(int r) {
        String name = names.get(r);
        if (!name.contains("#")) return name;
        int at = firstUse.get(r);
        int lineStart = src.lastIndexOf('\n', Math.max(0, at - 1)) + 1;
        int p = lineStart;
        while (p < src.length() && src.charAt(p) != ':' && src.charAt(p) != '\n') p++;
        return src.substring(lineStart, p).trim() + " (a group in it)";
    }

    private GrammarException error(String what) {
        return errorAt(pos, what);
    }

    private GrammarException errorAt(int at, String what) {
        int line = 1, col = 1;
        for (int i = 0; i < Math.min(at, src.length()); i++) {
            if (src.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new GrammarException("grammar line " + line + ", column " + col + ": " + what);
    }

    private static String printable(char c) {
        return c < 0x20 ? String.format("\\x%02x", (int) c) : String.valueOf(c);
    }
}
