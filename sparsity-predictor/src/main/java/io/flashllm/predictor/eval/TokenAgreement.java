package io.flashllm.predictor.eval;

/**
 * Greedy token agreement between a reference model (dense) and a candidate (predicted): the
 * reference generates greedily from the prompt; both models are fed the same tokens (the
 * reference's), and at each step the candidate's greedy choice is compared with the reference's.
 * Teacher forcing keeps one early disagreement from making every later comparison meaningless;
 * the first disagreement is reported too (what free-running generation would see).
 */
public final class TokenAgreement {
    /** Steps compared, steps agreeing, the first disagreeing step (-1 if none) and the reference tokens. */
    public record Result(int steps, int agreed, int firstDisagreement, int[] referenceTokens) {
        public double rate() {
            return steps == 0 ? 1.0 : (double) agreed / steps;
        }
    }

    private TokenAgreement() {}

    /** Both models start with empty caches; {@code prompt} is non-empty. */
    public static Result compare(TokenModel reference, TokenModel candidate, int[] prompt, int steps) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt must hold at least one token");
        if (steps < 0) throw new IllegalArgumentException("steps must not be negative");
        int rNext = 0;
        int cNext = 0;
        for (int i = 0; i < prompt.length; i++) {
            // argmax right away: the two models may share or reuse logit buffers.
            rNext = argmax(reference.forward(prompt[i], i));
            cNext = argmax(candidate.forward(prompt[i], i));
        }
        return run(reference, candidate, rNext, cNext, prompt.length, steps);
    }

    private static Result run(TokenModel reference, TokenModel candidate, int rNext, int cNext, int pos, int steps) {
        int[] tokens = new int[steps];
        int agreed = 0;
        int first = -1;
        for (int s = 0; s < steps; s++) {
            if (rNext == cNext) agreed++;
            else if (first < 0) first = s;
            tokens[s] = rNext;
            if (s + 1 == steps) break;
            int tok = rNext;
            rNext = argmax(reference.forward(tok, pos));
            cNext = argmax(candidate.forward(tok, pos));
            pos++;
        }
        return new Result(steps, agreed, first, tokens);
    }

    /** Index of the largest logit (lowest index on ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
