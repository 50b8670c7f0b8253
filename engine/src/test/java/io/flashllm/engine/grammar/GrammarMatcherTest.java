package io.flashllm.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GrammarMatcherTest {

    /** Whole-sentence membership: every character continues the grammar and it may end there. */
    private static boolean matches(Grammar g, String text) {
        GrammarMatcher m = new GrammarMatcher(g);
        return m.acceptText(text) && m.canEnd();
    }

    private static boolean prefix(Grammar g, String text) {
        return new GrammarMatcher(g).acceptText(text);
    }

    private static List<String> allStrings(String alphabet, int maxLength) {
        List<String> out = new ArrayList<>();
        out.add("");
        int from = 0;
        for (int len = 1; len <= maxLength; len++) {
            int to = out.size();
            for (int i = from; i < to; i++) {
                for (char c : alphabet.toCharArray()) out.add(out.get(i) + c);
            }
            from = to;
        }
        return out;
    }

    /**
     * The matcher against java.util.regex on the same languages, every string over the alphabet up to
     * length 7: whole-sentence and prefix answers must agree (a prefix is a string some extension matches,
     * which regex answers with hitEnd).
     */
    @Test
    void agreesWithRegularExpressionsOnEveryShortString() {
        String[][] cases = {
            {"root ::= \"ab\" | \"a\" \"c\"*", "ab|ac*"},
            {"root ::= [ab]+ \"c\"?", "[ab]+c?"},
            {"root ::= (\"a\" | \"bc\"){2,3}", "(a|bc){2,3}"},
            {"root ::= x{1,} y\nx ::= \"a\" | \"b\"\ny ::= \"c\" | \"\"", "[ab]{1,}c?"},
            {"root ::= [^a]* \"a\"", "[^a]*a"},
            {"root ::= (\"a\" \"b\"?)* \"c\"{0,2}", "(ab?)*c{0,2}"},
            {"root ::= \"a\"{3}", "aaa"},
            {"root ::= (\"a\" | \"a\" \"b\" | \"ab\")+", "(a|ab|ab)+"},
        };
        List<String> strings = allStrings("abc", 7);
        for (String[] c : cases) {
            Grammar g = Grammar.parse(c[0]);
            Pattern p = Pattern.compile(c[1]);
            for (String s : strings) {
                var m = p.matcher(s);
                boolean whole = m.matches();
                boolean canGrow = whole || m.hitEnd();
                assertEquals(whole, matches(g, s), () -> c[0] + " on '" + s + "'");
                assertEquals(canGrow, prefix(g, s), () -> c[0] + " as a prefix of '" + s + "'");
            }
        }
    }

    @Test
    void recursiveRulesNestAndBalance() {
        Grammar g = Grammar.parse("root ::= item\nitem ::= \"(\" item* \")\" | \"x\"");
        assertTrue(matches(g, "x"));
        assertTrue(matches(g, "(()(x)((x)x))"));
        assertFalse(matches(g, "(()"));
        assertTrue(prefix(g, "(()"));
        assertFalse(prefix(g, "())"));
    }

    @Test
    void escapesClassesAndAnyCharacter() {
        Grammar g = Grammar.parse("""
                # a comment, then a rule over two lines
                root ::= "\\"" [\\x41-\\u0043\\n]
                         . "\\t\\\\"
                """);
        assertTrue(matches(g, "\"A\u00e9\t\\"));
        assertTrue(matches(g, "\"\nz\t\\"));
        assertFalse(matches(g, "\"D \t\\"));
    }

    @Test
    void followsUtf8ByteByByte() {
        Grammar g = Grammar.parse("root ::= \"é\" [α-ω]+ \"😀\"");
        GrammarMatcher m = new GrammarMatcher(g);
        byte[] text = "éλμ😀".getBytes(StandardCharsets.UTF_8);
        for (byte b : text) assertTrue(m.acceptBytes(new byte[] {b}), "byte " + (b & 0xFF));
        assertTrue(m.canEnd());

        GrammarMatcher n = new GrammarMatcher(g);
        byte[] e = "é".getBytes(StandardCharsets.UTF_8);
        assertTrue(n.acceptBytes(new byte[] {e[0]}));
        assertFalse(n.canEnd(), "an unfinished character is not a whole sentence");
        // 0xC3 0xA9 is é; 0xC3 0xA8 would be è, and 0xC4 leads to characters from U+0100 the rule never takes.
        assertFalse(n.acceptBytes(new byte[] {(byte) 0xA8}));
        assertFalse(new GrammarMatcher(g).acceptBytes(new byte[] {(byte) 0xC4}));
        // Overlong forms: 0xE0 0x81 0xA1 would be 'a' in three bytes, 0xC1 0xA1 in two.
        GrammarMatcher a = new GrammarMatcher(Grammar.parse("root ::= \"a\""));
        assertFalse(a.acceptBytes(new byte[] {(byte) 0xE0}), "no three-byte character is 'a'");
        assertFalse(a.acceptBytes(new byte[] {(byte) 0xC1}));
        GrammarMatcher any = new GrammarMatcher(Grammar.parse("root ::= .*"));
        assertTrue(any.acceptBytes(new byte[] {(byte) 0xE0}));
        assertFalse(any.acceptBytes(new byte[] {(byte) 0x81}), "0xE0 0x81 starts an overlong form");
        assertTrue(any.acceptBytes(new byte[] {(byte) 0xA0, (byte) 0x80}), "U+0800, the first three-byte character");
        // Bytes UTF-8 never has, and a continuation byte with no lead.
        assertFalse(new GrammarMatcher(Grammar.parse("root ::= .*")).acceptBytes(new byte[] {(byte) 0xFF}));
        assertFalse(new GrammarMatcher(Grammar.parse("root ::= .*")).acceptBytes(new byte[] {(byte) 0x80}));
    }

    @Test
    void aRefusedTextLeavesTheStateAsItWas() {
        GrammarMatcher m = new GrammarMatcher(Grammar.parse("root ::= \"abc\" \"d\"*"));
        assertTrue(m.acceptText("ab"));
        var before = m.state();
        assertFalse(m.acceptText("cx"));
        assertTrue(m.state() == before);
        assertTrue(m.acceptText("cdd"));
        assertTrue(m.canEnd());
        assertTrue(m.canContinue());
        m.reset(m.startState());
        assertFalse(m.canEnd());
    }

    @Test
    void longRepetitionsStayFlat() {
        GrammarMatcher m = new GrammarMatcher(Grammar.parse("root ::= \"\\\"\" [^\"]* \"\\\"\""));
        assertTrue(m.acceptText("\""));
        var inside = m.state();
        for (int i = 0; i < 100_000; i++) assertTrue(m.acceptText("a"));
        assertTrue(m.state() == inside, "each character of a string leads back to the same interned state");
        assertTrue(m.acceptText("\""));
        assertTrue(m.canEnd());
        assertFalse(m.canContinue());
    }

    @Test
    void badGrammarsAreRefusedWithWhereAndWhat() {
        assertMessage("root ::= foo", "'foo' is used but never defined");
        assertMessage("start ::= \"a\"", "no 'root' rule");
        assertMessage("root ::= root \"a\" | \"b\"", "'root' is left-recursive");
        assertMessage("root ::= x\nx ::= y? x \"a\"\ny ::= \"b\"", "left-recursive");
        assertMessage("root ::= \"abc", "line 1, column 14: the string literal is not closed");
        assertMessage("root ::= \"a\"\nroot ::= \"b\"", "line 2, column 1: the rule 'root' is defined twice");
        assertMessage("root ::= \"\\q\"", "unknown escape '\\q'");
        assertMessage("root ::= \"a\"{3,2}", "maximum below its minimum");
        assertMessage("root ::= \"a\"{20000}", "above 10000");
        assertMessage("root ::= [z-a]", "runs backwards");
        assertMessage("root ::= ( \"a\"", "this '(' is not closed");
        assertMessage("root ::= [abc", "this '[' is not closed");
        assertMessage("root \"a\"", "expected '::='");
        assertMessage("root ::= @", "unexpected '@'");
        assertMessage("   \n# only a comment\n", "the grammar is empty");
        // Absurd nesting is refused before any recursion runs out of stack.
        assertMessage("root ::= " + "(".repeat(50_000) + "\"a\"" + ")".repeat(50_000), "groups nest more than 1000 deep");
        StringBuilder chain = new StringBuilder("root ::= r0\n");
        for (int i = 0; i < 50_000; i++) chain.append("r").append(i).append(" ::= r").append(i + 1).append('\n');
        chain.append("r50000 ::= \"a\"\n");
        assertMessage(chain.toString(), "more than 1000 rules before any character");
    }

    @Test
    void partsThatMayBeEmptyAreWalkedOnceAndNotTooDeep() {
        // 2^60 ways through sixty optional empties: each position is expanded once.
        GrammarMatcher m = new GrammarMatcher(Grammar.parse("root ::= (\"\" | \"\"){60} \"a\""));
        assertTrue(m.acceptText("a") && m.canEnd());
        GrammarException e = assertThrows(GrammarException.class,
                () -> new GrammarMatcher(Grammar.parse("root ::= (\"\" | \"x\"){5000} \"a\"")));
        assertTrue(e.getMessage().contains("more than 2000 deep"), e.getMessage());
    }

    @Test
    void anAnswerMayStartWithOneSpace() throws Exception {
        var schema = new com.fasterxml.jackson.databind.ObjectMapper().readTree("{\"type\":\"object\",\"properties\":"
                + "{\"a\":{\"$ref\":\"#\"}}}");
        for (Grammar g : List.of(Grammar.parse(JsonSchemaGrammar.answer(schema)), Grammar.parse(JsonSchemaGrammar.answerObject()))) {
            assertTrue(matches(g, "{\"a\":{}}"));
            assertTrue(matches(g, " {\"a\":{}}"), "SentencePiece's word-start space");
            assertFalse(matches(g, "  {\"a\":{}}"), "one space only");
            assertFalse(matches(g, "\n{\"a\":{}}"));
        }
        assertFalse(matches(Grammar.parse(JsonSchemaGrammar.toGbnf(schema)), " {}"), "the bare schema grammar has none");
    }

    @Test
    void aGrammarWhoseReadingsMultiplyIsRefusedWhileFollowed() {
        // After n x's there are 2^n ways to close them (each with y or z): too many to follow.
        GrammarMatcher m = new GrammarMatcher(Grammar.parse("root ::= a\na ::= \"x\" a \"y\" | \"x\" a \"z\" | \"\""));
        assertTrue(m.acceptText("xxxx"));
        GrammarException e = assertThrows(GrammarException.class, () -> m.acceptText("x".repeat(20)));
        assertTrue(e.getMessage().contains("too ambiguous"), e.getMessage());
    }

    private static void assertMessage(String gbnf, String expected) {
        GrammarException e = assertThrows(GrammarException.class, () -> Grammar.parse(gbnf));
        assertTrue(e.getMessage().contains(expected), () -> "'" + e.getMessage() + "' should say: " + expected);
    }

    /** llama.cpp's grammar style (JSON), as users write it: rules over several lines, groups spanning lines. */
    @Test
    void aJsonGrammarWrittenTheUsualWay() {
        Grammar g = Grammar.parse("""
                root   ::= object
                value  ::= object | array | string | number | ("true" | "false" | "null") ws

                object ::=
                  "{" ws (
                            string ":" ws value
                    ("," ws string ":" ws value)*
                  )? "}" ws

                array  ::=
                  "[" ws (
                            value
                    ("," ws value)*
                  )? "]" ws

                string ::=
                  "\\"" (
                    [^"\\\\\\x7F\\x00-\\x1F] |
                    "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F]{4})
                  )* "\\"" ws

                number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
                ws ::= | " " | "\\n" [ \\t]{0,20}
                """);
        assertTrue(matches(g, "{\"a\": [1, 2.5, -3e7, \"x\\n\\u00e9\"], \"b\": {\"c\": null}}"));
        assertTrue(matches(g, "{}"));
        assertFalse(matches(g, "{\"a\": }"));
        assertFalse(matches(g, "[1]"));
        assertTrue(prefix(g, "{\"key\": tr"));
    }

    @Test
    void afterThinkingTheThinkingIsFreeAndTheGrammarHoldsAfterTheTag() {
        Grammar g = Grammar.parse("root ::= \"{\" [a-z]* \"}\"").afterThinking("</think>");
        assertEquals("</think>", g.trigger(), "lazy: nothing holds the thinking");
        for (String ok : new String[] {"</think>{ab}", "</think>\n{ab}", "</think>\n\n{}"}) {
            GrammarMatcher m = new GrammarMatcher(g);
            assertTrue(m.acceptText(ok) && m.canEnd(), ok);
        }
        for (String bad : new String[] {"</think>x{ab}", "</think>\n\n\n{ab}", "</think>{ab", "</thin>{ab}"}) {
            GrammarMatcher m = new GrammarMatcher(g);
            assertFalse(m.acceptText(bad) && m.canEnd(), bad);
        }
    }
}
