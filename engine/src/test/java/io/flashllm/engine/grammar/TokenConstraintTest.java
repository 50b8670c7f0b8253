package io.flashllm.engine.grammar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.testutil.PieceTokenizer;
import org.junit.jupiter.api.Test;

class TokenConstraintTest {
    // 0 "a", 1 "<", 2 "t>", 3 "<t>", 4 "x", 5 "<t>a", 6 "}", 7 "x}", 8 end of generation
    static final PieceTokenizer TOK = new PieceTokenizer("a", "<", "t>", "<t>", "x", "<t>a", "}", "x}");
    static final int END = 8;

    static TokenConstraint constraint(Grammar g) {
        return new TokenConstraint(g, TokenTrie.of(TOK, TOK.vocabSize()));
    }

    @Test
    void aGrammarInForceAllowsOnlyWhatContinuesIt() {
        TokenConstraint c = constraint(Grammar.parse("root ::= \"<t>\" \"x\"+ \"}\""));
        assertTrue(c.allows(3));
        assertTrue(c.allows(1));
        assertFalse(c.allows(0));
        assertFalse(c.allows(5), "'<t>a' has a character the grammar refuses");
        assertFalse(c.allows(END), "nothing is a sentence yet");
        c.accept(1);
        c.accept(2);
        assertTrue(c.allows(4) && c.allows(7));
        assertFalse(c.allows(6), "a '}' needs an 'x' first");
        float[] logits = new float[TOK.vocabSize()];
        assertEquals(2, c.mask(logits), "x and x}");
        assertEquals(Float.NEGATIVE_INFINITY, logits[6]);
        assertEquals(0f, logits[4]);
        c.accept(7);
        assertTrue(c.finished());
        assertThrows(IllegalStateException.class, () -> c.accept(0));
    }

    @Test
    void aLazyGrammarSleepsUntilItsTriggerAppears() {
        TokenConstraint c = constraint(Grammar.parse("root ::= \"<t>\" \"x\"+ \"}\"").triggeredBy("<t>"));
        assertFalse(c.active());
        for (int t = 0; t < TOK.vocabSize(); t++) {
            assertEquals(t != 5, c.allows(t), "while asleep only a trigger followed by refused text is refused: " + t);
        }
        float[] logits = new float[TOK.vocabSize()];
        assertEquals(TOK.vocabSize() - 1, c.mask(logits));
        assertEquals(Float.NEGATIVE_INFINITY, logits[5]);
        c.accept(0);
        c.accept(1);
        assertFalse(c.active(), "half a trigger");
        assertFalse(c.finished());
        c.accept(2);
        assertTrue(c.active(), "the trigger came over two tokens");
        assertFalse(c.allows(END));
        assertFalse(c.allows(0));
        c.accept(4);
        c.accept(6);
        assertTrue(c.finished(), "the grammar is complete: the output ends there");
    }

    @Test
    void textAfterTheTriggerInTheSameTokenIsHeldToTheGrammar() {
        TokenConstraint c = constraint(Grammar.parse("root ::= \"<t>a\" \"}\"").triggeredBy("<t>"));
        assertTrue(c.allows(5));
        c.accept(5);
        assertTrue(c.active());
        assertFalse(c.allows(4));
        c.accept(6);
        assertTrue(c.finished());
    }
}
