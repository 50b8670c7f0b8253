package io.flashllm.engine.sampling;

/**
 * Log-probabilities of raw logits (log-softmax, before penalties and temperature), as OpenAI's {@code logprobs}
 * report them. Allocation-free: the caller passes the output arrays.
 */
public final class Logprobs {
    private Logprobs() {}

    /** log Σ exp(logits[i]) over the first {@code n} entries, computed stably. */
    public static double logSumExp(float[] logits, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (logits[i] > max) max = logits[i];
        }
        if (max == Float.NEGATIVE_INFINITY) {
            return max;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[i] - max);
        }
        return max + Math.log(sum);
    }

    /** log p(token) under softmax(logits). */
    public static float logprob(float[] logits, int token) {
        return logprob(logits, logits.length, token);
    }

    /** log p(token) under the softmax of the first {@code n} logits (a model's padding rows left out). */
    public static float logprob(float[] logits, int n, int token) {
        if (token < 0 || token >= n) {
            throw new IllegalArgumentException("token " + token + " outside the first " + n + " logits");
        }
        return (float) (logits[token] - logSumExp(logits, n));
    }

    /**
     * Fills {@code ids[0..k)} and {@code logprobs[0..k)} with the k most likely tokens, most likely first (ties:
     * lower id first); returns how many were filled (k, or fewer for a smaller vocabulary).
     */
    public static int top(float[] logits, int k, int[] ids, float[] logprobs) {
        return top(logits, logits.length, k, ids, logprobs);
    }

    /** {@link #top(float[], int, int[], float[])} over the first {@code n} logits only. */
    public static int top(float[] logits, int n, int k, int[] ids, float[] logprobs) {
        int m = Math.min(k, n);
        if (m <= 0) {
            return 0;
        }
        int count = TopK.select(logits, n, m, ids);
        double lse = logSumExp(logits, n);
        for (int i = 0; i < count; i++) {
            logprobs[i] = (float) (logits[ids[i]] - lse);
        }
        return count;
    }
}
