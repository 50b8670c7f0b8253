package io.flashllm.predictor.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EvaluatorsTest {
    /** A model whose next-token distribution puts probability p on (token + 1) mod vocab, the rest uniform. */
    static TokenModel successor(int vocab, double p) {
        float[] logits = new float[vocab];
        double rest = (1 - p) / (vocab - 1);
        return (token, pos) -> {
            for (int i = 0; i < vocab; i++) logits[i] = (float) Math.log(rest);
            logits[(token + 1) % vocab] = (float) Math.log(p);
            return logits;
        };
    }

    @Test
    void perplexityOfKnownDistributions() {
        int[] tokens = new int[50];
        for (int i = 0; i < tokens.length; i++) tokens[i] = i % 10;
        // Uniform model: perplexity = vocabulary size.
        Perplexity.Result u = Perplexity.compute(w -> (t, p) -> new float[10], tokens, 16);
        assertEquals(10.0, u.perplexity(), 1e-4);
        // Windows of 16: 49 - 3 window starts' first tokens are context only... every window scores len-1 tokens.
        assertEquals(15 + 15 + 15 + 1, u.tokens());
        Perplexity.Result s = Perplexity.compute(w -> successor(10, 0.8), tokens, 100);
        assertEquals(1 / 0.8, s.perplexity(), 1e-4);
        assertEquals(49, s.tokens());
        assertThrows(IllegalArgumentException.class, () -> Perplexity.compute(w -> successor(10, 0.5), new int[] {1}, 8));
        assertThrows(IllegalArgumentException.class, () -> Perplexity.logProb(new float[3], 3));
    }

    @Test
    void agreementCountsTeacherForcedMatches() {
        TokenModel ref = successor(7, 0.9);
        TokenAgreement.Result same = TokenAgreement.compare(ref, successor(7, 0.6), new int[] {3, 4}, 20);
        assertEquals(20, same.agreed());
        assertEquals(-1, same.firstDisagreement());
        assertEquals(5, same.referenceTokens()[0]);
        assertEquals(6, same.referenceTokens()[1]);
        // A candidate that predicts token+2 whenever the input token is even disagrees on those steps.
        TokenModel odd = (token, pos) -> {
            float[] l = new float[7];
            l[(token + (token % 2 == 0 ? 2 : 1)) % 7] = 5;
            return l;
        };
        TokenAgreement.Result r = TokenAgreement.compare(ref, odd, new int[] {1}, 14);
        int expect = 0;
        int tok = 1;
        int first = -1;
        for (int s = 0; s < 14; s++) {
            if (tok % 2 == 1) expect++;
            else if (first < 0) first = s;
            tok = (tok + 1) % 7;
        }
        assertEquals(expect, r.agreed());
        assertEquals(first, r.firstDisagreement());
        assertEquals(expect / 14.0, r.rate(), 1e-12);
    }
}
