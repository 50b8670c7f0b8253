package io.flashllm.predictor.eval;

import java.util.function.IntFunction;

/**
 * Perplexity of a token sequence: exp of the mean negative log-likelihood of each token given the
 * ones before it. Sequences longer than the context are cut into consecutive windows, each scored
 * from a fresh cache (the first token of a window is context only), as llama.cpp's perplexity
 * tool does.
 */
public final class Perplexity {
    /** Mean negative log-likelihood (nats), the tokens it was taken over, and its exponential. */
    public record Result(double meanNll, long tokens, double perplexity) {}

    private Perplexity() {}

    /**
     * @param session  opens a model with an empty cache for a window (the int is the window length)
     * @param tokens   the text's tokens (BOS included if the model expects it)
     * @param window   tokens per window (at most the model's context), at least 2
     */
    public static Result compute(IntFunction<TokenModel> session, int[] tokens, int window) {
        if (window < 2) throw new IllegalArgumentException("window must be at least 2 tokens");
        if (tokens.length < 2) throw new IllegalArgumentException("perplexity needs at least 2 tokens, got " + tokens.length);
        double nll = 0;
        long n = 0;
        for (int start = 0; start + 1 < tokens.length; start += window) {
            int end = Math.min(tokens.length, start + window);
            TokenModel m = session.apply(end - start);
            for (int i = start; i + 1 < end; i++) {
                float[] logits = m.forward(tokens[i], i - start);
                nll -= logProb(logits, tokens[i + 1]);
                n++;
            }
        }
        double mean = nll / n;
        return new Result(mean, n, Math.exp(mean));
    }

    /** log softmax(logits)[target], computed stably. */
    public static double logProb(float[] logits, int target) {
        if (target < 0 || target >= logits.length) {
            throw new IllegalArgumentException("token " + target + " outside the vocabulary of " + logits.length);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        return logits[target] - max - Math.log(sum);
    }
}
