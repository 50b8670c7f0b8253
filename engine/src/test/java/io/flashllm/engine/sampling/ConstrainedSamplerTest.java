package io.flashllm.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.TokenConstraint;
import io.flashllm.engine.grammar.TokenTrie;
import io.flashllm.engine.testutil.PieceTokenizer;
import io.flashllm.engine.tokenizer.Tokenizer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sampler under a grammar: picks then checks, and the distribution is the masked one. */
class ConstrainedSamplerTest {
    /** Five tokens: a, b, c, ab, and an end-of-generation control token. */
    static final Tokenizer TOK = new PieceTokenizer("a", "b", "c", "ab");

    static TokenConstraint constraint(String gbnf) {
        return new TokenConstraint(Grammar.parse(gbnf), TokenTrie.of(TOK, 5));
    }

    static SamplingParams params(float temperature, int topK, long seed) {
        return new SamplingParams(temperature, topK, 1f, 0f, 1f, 64, 0f, 0f, seed, 100, List.of(), 0);
    }

    static float[] logitsOf(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) l[i] = (float) Math.log(p[i]);
        return l;
    }

    @Test
    void theDistributionIsTheModelsRenormalisedOverTheAllowedTokens() {
        // Allowed first: a, b, ab (c and the end are not). The model prefers c and the end.
        float[] logits = logitsOf(0.1, 0.1, 0.4, 0.2, 0.2);
        int draws = 200_000;
        double[] f = new double[5];
        for (int i = 0; i < draws; i++) {
            Sampler s = new Sampler(params(1f, 0, i), 5, constraint("root ::= \"a\" \"b\"? | \"b\""));
            f[s.sample(logits)]++;
        }
        double[] expected = {0.25, 0.25, 0, 0.5, 0};
        for (int t = 0; t < 5; t++) {
            assertEquals(expected[t], f[t] / draws, 0.01, "token " + t);
        }
    }

    @Test
    void greedyAndTopKTakeTheBestAllowedToken() {
        float[] logits = logitsOf(0.1, 0.2, 0.4, 0.05, 0.25);
        assertEquals(1, new Sampler(params(0f, 0, 1), 5, constraint("root ::= [ab]")).sample(logits));
        for (long seed = 0; seed < 20; seed++) {
            // top-k 1 after the mask: still the best of what is allowed.
            assertEquals(1, new Sampler(params(1f, 1, seed), 5, constraint("root ::= [ab]")).sample(logits));
        }
    }

    @Test
    void theEndIsAllowedOnlyWhenTheTextIsASentence() {
        float[] endFirst = logitsOf(0.1, 0.1, 0.1, 0.1, 0.6);
        Sampler s = new Sampler(params(0f, 0, 1), 5, constraint("root ::= \"a\"+"));
        int t = s.sample(endFirst);
        assertEquals(0, t, "nothing yet: the end is not allowed");
        s.accept(t);
        assertEquals(4, s.sample(endFirst), "after 'a' the text may end, and the model wants to");
    }

    @Test
    void noAllowedTokenIsMinusOneAndARefusedTokenCannotBeAccepted() {
        // The grammar wants 'z', which no token gives.
        Sampler s = new Sampler(params(0f, 0, 1), 5, constraint("root ::= \"z\""));
        assertEquals(-1, s.sample(logitsOf(0.2, 0.2, 0.2, 0.2, 0.2)));
        assertThrows(IllegalStateException.class, () -> s.accept(0));
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(params(0f, 0, 1), 4, constraint("root ::= \"a\"")), "vocabulary sizes must agree");
    }

    @Test
    void aLogitBiasComesBeforeTheGrammar() {
        // b is banned by the bias, so the best allowed token is ab.
        SamplingParams p = params(0f, 0, 1).withLogitBias(Map.of(1, -100f));
        Sampler s = new Sampler(p, 5, constraint("root ::= \"a\" \"b\"? | \"b\""));
        assertEquals(3, s.sample(logitsOf(0.1, 0.5, 0.1, 0.2, 0.1)));
        assertTrue(new Sampler(p, 5).sample(logitsOf(0.1, 0.5, 0.1, 0.2, 0.1)) == 3);
    }
}
