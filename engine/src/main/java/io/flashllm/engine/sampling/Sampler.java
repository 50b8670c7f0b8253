package io.flashllm.engine.sampling;

import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.grammar.TokenConstraint;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits. The steps run in llama.cpp's default order:
 * <ol>
 *   <li>the logit bias (added to the chosen tokens' logits);</li>
 *   <li>penalties: repetition (llama.cpp: over the last {@code repetitionLastN} tokens seen, prompt included; a
 *       positive logit is divided by the penalty, a negative one multiplied), then presence and frequency (OpenAI:
 *       {@code logit -= count·frequency + (count > 0)·presence}, counting generated tokens only);</li>
 *   <li>temperature ≤ 0: greedy (the largest logit, lowest id on ties);</li>
 *   <li>top-k, top-p (smallest set of most likely tokens whose probability reaches p), min-p (drop tokens below
 *       {@code minP·p_max}) — probabilities at temperature 1;</li>
 *   <li>temperature, then a draw from the seeded generator.</li>
 * </ol>
 * All buffers are allocated here: sampling a token allocates nothing. Not thread-safe; one per generation.
 *
 * <p>With a {@link TokenConstraint} (a grammar), the token picked this way is checked; if the grammar refuses it,
 * the refused tokens' logits are set to negative infinity and the steps run again on what is left (llama.cpp's
 * order: the same distribution as masking first, at the cost of a mask only when the model strays).
 *
 * <p>{@code vocab} may be smaller than the logits: only ids below it are ever picked (pass the tokenizer's
 * vocabulary size so a model's padding rows can never be sampled).
 */
public final class Sampler {
    /** Top-p bins (see {@link #topPUnsorted}): 64 per nat covers e^-32 below the best token. */
    private static final int BINS = 2048;
    private static final float BIN_SCALE = 64f;

    private final SamplingParams params;
    private final int vocab;
    private final SplittableRandom rng;
    private final float[] work;
    private final int[] cand;
    private final double[] probs;
    private final double[] binMass = new double[BINS];

    // Repetition window: a ring of the last N tokens (N < 0: every token, unbounded counts).
    private final int window;
    private final int[] ring;
    private int ringStart;
    private int ringSize;
    private final int[] stamp;
    private int epoch;
    // All tokens seen when N < 0 (distinct, in first-seen order).
    private final int[] seenDistinct;
    private int seenDistinctCount;
    private final boolean[] seen;
    // Generated-token counts for presence/frequency penalties.
    private final int[] genCount;
    private final int[] genDistinct;
    private int genDistinctCount;
    private final int[] biasTokens;
    private final float[] biasValues;
    private final TokenConstraint constraint;
    private float[] masked;

    public Sampler(SamplingParams params, int vocab) {
        this(params, vocab, null);
    }

    /** @param constraint the grammar the output must follow, or null */
    public Sampler(SamplingParams params, int vocab, TokenConstraint constraint) {
        if (vocab <= 0) {
            throw new IllegalArgumentException("vocabulary size must be positive, got " + vocab);
        }
        validate(params);
        this.params = params;
        this.vocab = vocab;
        this.rng = new SplittableRandom(params.seed());
        this.work = new float[vocab];
        this.cand = new int[vocab];
        this.probs = new double[vocab];
        boolean repetition = params.repetitionPenalty() != 1f && params.repetitionLastN() != 0;
        this.window = repetition ? params.repetitionLastN() : 0;
        this.ring = new int[Math.max(window, 0)];
        this.stamp = window > 0 ? new int[vocab] : null;
        this.seen = window < 0 ? new boolean[vocab] : null;
        this.seenDistinct = window < 0 ? new int[vocab] : null;
        boolean genPenalty = params.presencePenalty() != 0f || params.frequencyPenalty() != 0f;
        this.genCount = genPenalty ? new int[vocab] : null;
        this.genDistinct = genPenalty ? new int[vocab] : null;
        this.biasTokens = new int[params.logitBias().size()];
        this.biasValues = new float[biasTokens.length];
        int i = 0;
        for (Map.Entry<Integer, Float> e : params.logitBias().entrySet()) {
            biasTokens[i] = e.getKey();
            biasValues[i++] = e.getValue();
        }
        if (constraint != null && constraint.vocab() != vocab) {
            throw new IllegalArgumentException("the grammar's vocabulary has " + constraint.vocab()
                    + " tokens, the sampler's " + vocab);
        }
        this.constraint = constraint;
    }

    private static void validate(SamplingParams p) {
        if (Float.isNaN(p.temperature()) || p.temperature() < 0) {
            throw new IllegalArgumentException("temperature must be >= 0, got " + p.temperature());
        }
        if (p.topK() < 0) {
            throw new IllegalArgumentException("top_k must be >= 0, got " + p.topK());
        }
        if (!(p.topP() > 0 && p.topP() <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + p.topP());
        }
        if (!(p.minP() >= 0 && p.minP() <= 1)) {
            throw new IllegalArgumentException("min_p must be in [0, 1], got " + p.minP());
        }
        if (!(p.repetitionPenalty() > 0) || Float.isInfinite(p.repetitionPenalty())) {
            throw new IllegalArgumentException("repetition penalty must be > 0, got " + p.repetitionPenalty());
        }
        if (!Float.isFinite(p.presencePenalty()) || !Float.isFinite(p.frequencyPenalty())) {
            throw new IllegalArgumentException("presence/frequency penalties must be finite numbers");
        }
        for (Map.Entry<Integer, Float> e : p.logitBias().entrySet()) {
            if (e.getKey() < 0 || !Float.isFinite(e.getValue())) {
                throw new IllegalArgumentException("logit bias " + e.getKey() + " -> " + e.getValue()
                        + ": token ids must be >= 0 and biases finite");
            }
        }
    }

    public SamplingParams params() {
        return params;
    }

    /** Records prompt tokens: they count for the repetition penalty, not for presence/frequency. */
    public void acceptPrompt(int[] tokens) {
        for (int t : tokens) {
            remember(t);
        }
    }

    /** Records a generated token (call it for every token {@link #sample} returned). */
    public void accept(int token) {
        if (constraint != null) constraint.accept(token);
        remember(token);
        if (genCount != null) {
            if (genCount[token]++ == 0) {
                genDistinct[genDistinctCount++] = token;
            }
        }
    }

    private void remember(int token) {
        if (token < 0 || token >= vocab) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary (" + vocab + ")");
        }
        if (window > 0) {
            if (ringSize < window) {
                ring[(ringStart + ringSize++) % window] = token;
            } else {
                ring[ringStart] = token;
                ringStart = (ringStart + 1) % window;
            }
        } else if (window < 0 && !seen[token]) {
            seen[token] = true;
            seenDistinct[seenDistinctCount++] = token;
        }
    }

    /**
     * The next token for these logits (not modified; at least {@code vocab} entries), or -1 when a grammar
     * allows no token of the vocabulary here (no token can continue the output; generation must stop).
     */
    public int sample(float[] logits) {
        if (logits.length < vocab) {
            throw new IllegalArgumentException("logits have " + logits.length + " entries, vocabulary has " + vocab);
        }
        int token = pick(logits);
        if (constraint == null || constraint.allows(token)) return token;
        if (masked == null) masked = new float[vocab];
        System.arraycopy(logits, 0, masked, 0, vocab);
        if (constraint.mask(masked) == 0) return -1;
        token = pick(masked);
        // Every allowed token had no probability at all (e.g. the model's logits there are -inf or NaN).
        return constraint.allows(token) ? token : -1;
    }

    private int pick(float[] logits) {
        if (params.temperature() <= 0f && !penalized()) {
            return argmax(logits);
        }
        for (int i = 0; i < vocab; i++) {
            float l = logits[i];
            work[i] = Float.isNaN(l) ? Float.NEGATIVE_INFINITY : l;
        }
        applyPenalties();
        if (params.temperature() <= 0f) {
            return argmax(work);
        }
        int n = truncate();
        return draw(n);
    }

    private void applyPenalties() {
        for (int i = 0; i < biasTokens.length; i++) {
            int t = biasTokens[i];
            if (t < vocab) work[t] += biasValues[i];
        }
        float rp = params.repetitionPenalty();
        if (window > 0) {
            if (++epoch == 0) {
                java.util.Arrays.fill(stamp, 0);
                epoch = 1;
            }
            for (int i = 0; i < ringSize; i++) {
                int t = ring[(ringStart + i) % window];
                if (stamp[t] != epoch) {
                    stamp[t] = epoch;
                    work[t] = repeat(work[t], rp);
                }
            }
        } else if (window < 0) {
            for (int i = 0; i < seenDistinctCount; i++) {
                int t = seenDistinct[i];
                work[t] = repeat(work[t], rp);
            }
        }
        if (genCount != null) {
            float pres = params.presencePenalty(), freq = params.frequencyPenalty();
            for (int i = 0; i < genDistinctCount; i++) {
                int t = genDistinct[i];
                work[t] -= genCount[t] * freq + pres;
            }
        }
    }

    private static float repeat(float logit, float penalty) {
        return logit <= 0 ? logit * penalty : logit / penalty;
    }

    private boolean penalized() {
        return window != 0 || genCount != null || biasTokens.length > 0;
    }

    /** The first largest entry; NaN never wins (unless everything is NaN, then 0). */
    private int argmax(float[] v) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            if (v[i] > bestValue) {
                bestValue = v[i];
                best = i;
            }
        }
        return best;
    }

    /** Applies top-k, top-p and min-p; leaves the kept candidates in {@code cand[0..n)} and returns n. */
    private int truncate() {
        int n;
        boolean sorted;
        int k = params.topK();
        if (k > 0 && k < vocab) {
            n = TopK.select(work, vocab, k, cand);
            sorted = true;
        } else {
            for (int i = 0; i < vocab; i++) cand[i] = i;
            n = vocab;
            sorted = false;
        }
        float topP = params.topP();
        if (topP < 1f && n > 1) {
            if (!sorted) {
                n = topPUnsorted(topP);
            } else {
                n = topPSorted(topP, n);
            }
            sorted = true;
        }
        float minP = params.minP();
        if (minP > 0f && n > 1) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) max = Math.max(max, work[cand[i]]);
            // p_i >= minP * p_max  <=>  logit_i >= max + ln(minP)
            float threshold = max + (float) Math.log(minP);
            int kept = 0;
            for (int i = 0; i < n; i++) {
                int t = cand[i];
                if (work[t] >= threshold) cand[kept++] = t;
            }
            n = Math.max(kept, 1);
        }
        return n;
    }

    /** Top-p over candidates sorted best first: keeps the shortest prefix whose probability mass reaches p. */
    private int topPSorted(float topP, int n) {
        float max = work[cand[0]];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            probs[i] = Math.exp(work[cand[i]] - max);
            sum += probs[i];
        }
        return nucleus(topP, n, sum);
    }

    private int nucleus(float topP, int n, double sum) {
        double target = topP * sum;
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (cum >= target) return i + 1;
        }
        return n;
    }

    /**
     * Top-p over the whole vocabulary in linear time: probabilities are binned by log-distance from the best token,
     * the bin where the running mass reaches p is found, everything in better bins is kept, and only the tokens of
     * that one bin are sorted to find the exact cut. Same result as sorting everything.
     */
    private int topPUnsorted(float topP) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) max = Math.max(max, work[i]);
        java.util.Arrays.fill(binMass, 0);
        double total = 0;
        for (int i = 0; i < vocab; i++) {
            double p = Math.exp(work[i] - max);
            probs[i] = p;
            total += p;
            binMass[bin(max, work[i])] += p;
        }
        double target = topP * total;
        double cum = 0;
        int b = 0;
        while (b < BINS - 1 && cum + binMass[b] < target) {
            cum += binMass[b++];
        }
        int n = 0;
        int tail = vocab;
        for (int i = 0; i < vocab; i++) {
            int bi = bin(max, work[i]);
            if (bi < b) {
                cand[n++] = i;
            } else if (bi == b) {
                cand[--tail] = i;
            }
        }
        // The boundary bin, filled from the end, is in falling id order: restore id order, then sort by value
        // unless all values are equal (ties go to the lower id, which id order already gives).
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (int i = tail, j = vocab - 1; i < j; i++, j--) {
            int t = cand[i];
            cand[i] = cand[j];
            cand[j] = t;
        }
        for (int i = tail; i < vocab; i++) {
            lo = Math.min(lo, work[cand[i]]);
            hi = Math.max(hi, work[cand[i]]);
        }
        if (lo != hi) {
            TopK.sortDescending(work, cand, tail, vocab - tail);
        }
        for (int i = tail; i < vocab; i++) {
            int t = cand[i];
            cand[n++] = t;
            cum += probs[t];
            if (cum >= target) break;
        }
        return Math.max(n, 1);
    }

    /** The bin of a logit: {@value #BIN_SCALE} bins per nat below the maximum, the last one catching the rest. */
    private static int bin(float max, float logit) {
        return (int) Math.min((max - logit) * BIN_SCALE, BINS - 1);
    }

    /** Softmax of candidates at the temperature, then one draw. */
    private int draw(int n) {
        float invT = 1f / params.temperature();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, work[cand[i]]);
        if (max == Float.NEGATIVE_INFINITY) {
            return cand[0];
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double p = Math.exp((work[cand[i]] - max) * invT);
            probs[i] = p;
            sum += p;
        }
        double u = rng.nextDouble() * sum;
        double cum = 0;
        for (int i = 0; i < n; i++) {
            cum += probs[i];
            if (u < cum) return cand[i];
        }
        // Rounding left u at the very top: the last candidate with any mass.
        for (int i = n - 1; i >= 0; i--) {
            if (probs[i] > 0) return cand[i];
        }
        return cand[0];
    }

    /** Log-probability of {@code token} under the raw logits (see {@link Logprobs}). */
    public static float logprob(float[] logits, int token) {
        return Logprobs.logprob(logits, token);
    }

    /** The k most likely tokens of the raw logits with their log-probabilities, most likely first; returns the count. */
    public static int topLogprobs(float[] logits, int k, int[] ids, float[] logprobs) {
        return Logprobs.top(logits, k, ids, logprobs);
    }
}
