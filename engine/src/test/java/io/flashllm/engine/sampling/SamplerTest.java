package io.flashllm.engine.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.api.SamplingParams;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static SamplingParams params(float temp, int topK, float topP, float minP, long seed) {
        return new SamplingParams(temp, topK, topP, minP, 1f, 64, 0f, 0f, seed, 100, List.of(), 0);
    }

    private static SamplingParams penalties(float rep, int lastN, float presence, float frequency) {
        return new SamplingParams(0f, 0, 1f, 0f, rep, lastN, presence, frequency, 1, 100, List.of(), 0);
    }

    /** Logits whose softmax is exactly {@code p}. */
    private static float[] logitsOf(double... p) {
        float[] l = new float[p.length];
        for (int i = 0; i < p.length; i++) l[i] = (float) Math.log(p[i]);
        return l;
    }

    private static double[] frequencies(Sampler s, float[] logits, int draws) {
        double[] f = new double[logits.length];
        for (int i = 0; i < draws; i++) f[s.sample(logits)]++;
        for (int i = 0; i < f.length; i++) f[i] /= draws;
        return f;
    }

    private static void assertClose(double[] expected, double[] got, double tol) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], tol, "token " + i + ": expected " + expected[i] + " got " + got[i]);
        }
    }

    @Test
    void greedyPicksLargestLowestIdOnTies() {
        Sampler s = new Sampler(SamplingParams.greedy(10), 5);
        assertEquals(3, s.sample(new float[] {1, 2, 0, 5, -1}));
        assertEquals(1, s.sample(new float[] {1, 7, 0, 7, -1}));
        assertEquals(2, s.sample(new float[] {Float.NaN, -3, 4, Float.NEGATIVE_INFINITY, 0}));
    }

    @Test
    void logitsPastTheVocabularyAreNeverPicked() {
        // A model with padding rows: logits has 6 entries, the tokenizer knows 4.
        float[] logits = {0f, 1f, 0f, 0f, 9f, 9f};
        assertEquals(1, new Sampler(SamplingParams.greedy(1), 4).sample(logits));
        Sampler s = new Sampler(params(2f, 0, 1f, 0f, 3), 4);
        for (int i = 0; i < 2000; i++) assertTrue(s.sample(logits) < 4);
    }

    @Test
    void temperatureOneFollowsSoftmax() {
        double[] p = {0.5, 0.3, 0.15, 0.05};
        double[] f = frequencies(new Sampler(params(1f, 0, 1f, 0f, 42), 4), logitsOf(p), 40_000);
        assertClose(p, f, 0.01);
    }

    @Test
    void temperatureSharpensAndFlattens() {
        double[] p = {0.5, 0.3, 0.15, 0.05};
        for (float t : new float[] {0.5f, 2f}) {
            double[] q = new double[p.length];
            double sum = 0;
            for (int i = 0; i < p.length; i++) sum += q[i] = Math.pow(p[i], 1 / t);
            for (int i = 0; i < p.length; i++) q[i] /= sum;
            assertClose(q, frequencies(new Sampler(params(t, 0, 1f, 0f, 7), 4), logitsOf(p), 40_000), 0.01);
        }
    }

    @Test
    void topKKeepsKBest() {
        double[] f = frequencies(new Sampler(params(1f, 2, 1f, 0f, 3), 4), logitsOf(0.5, 0.3, 0.15, 0.05), 40_000);
        assertClose(new double[] {0.625, 0.375, 0, 0}, f, 0.01);
        assertEquals(0, new Sampler(params(1f, 1, 1f, 0f, 3), 4).sample(logitsOf(0.5, 0.3, 0.15, 0.05)));
    }

    @Test
    void topPKeepsSmallestNucleus() {
        // cumulative 0.5, 0.8, 0.95, 1: p = 0.75 needs the first two tokens, p = 0.9 the first three.
        double[] f = frequencies(new Sampler(params(1f, 0, 0.75f, 0f, 5), 4), logitsOf(0.5, 0.3, 0.15, 0.05), 40_000);
        assertClose(new double[] {0.625, 0.375, 0, 0}, f, 0.01);
        f = frequencies(new Sampler(params(1f, 0, 0.9f, 0f, 5), 4), logitsOf(0.5, 0.3, 0.15, 0.05), 40_000);
        assertClose(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, f, 0.01);
    }

    @Test
    void topPOverAFlatLargeVocabularyMatchesReference() {
        // Flat: the nucleus holds hundreds of tokens and the boundary bin many.
        int vocab = 3000;
        SplittableRandom r = new SplittableRandom(9);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) logits[i] = (float) r.nextDouble(0, 2);
        float topP = 0.6f;
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < vocab; i++) order.add(i);
        order.sort(Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparingInt(i -> i));
        double total = 0;
        for (float l : logits) total += Math.exp(l);
        boolean[] inNucleus = new boolean[vocab];
        double cum = 0;
        int size = 0;
        for (int id : order) {
            inNucleus[id] = true;
            size++;
            cum += Math.exp(logits[id]);
            if (cum >= topP * total) break;
        }
        assertTrue(size > 256, "nucleus " + size);
        Sampler s = new Sampler(params(1f, 0, topP, 0f, 11), vocab);
        boolean[] seen = new boolean[vocab];
        for (int i = 0; i < 20_000; i++) {
            int t = s.sample(logits);
            assertTrue(inNucleus[t], "token " + t + " is outside the nucleus");
            seen[t] = true;
        }
        int distinct = 0;
        for (boolean b : seen) if (b) distinct++;
        assertTrue(distinct > size * 0.9, "draws should cover the nucleus: " + distinct + " of " + size);
    }

    @Test
    void topPWithAllLogitsEqualKeepsLowestIds() {
        // 0.25 is exact in binary, so the nucleus is exactly the first 250 tokens.
        Sampler s = new Sampler(params(1f, 0, 0.25f, 0f, 17), 1000);
        float[] logits = new float[1000];
        boolean[] seen = new boolean[1000];
        for (int i = 0; i < 5000; i++) {
            int t = s.sample(logits);
            assertTrue(t < 250, "token " + t + " is outside the first quarter of equal tokens");
            seen[t] = true;
        }
        for (int i = 0; i < 250; i++) assertTrue(seen[i], "token " + i + " never drawn");
    }

    @Test
    void minPDropsUnlikelyTokens() {
        // p_max = 0.5, min_p = 0.2: tokens below 0.1 go.
        double[] f = frequencies(new Sampler(params(1f, 0, 1f, 0.2f, 13), 4), logitsOf(0.5, 0.3, 0.15, 0.05), 40_000);
        assertClose(new double[] {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, f, 0.01);
    }

    @Test
    void repetitionPenaltyFollowsLlamaCpp() {
        Sampler s = new Sampler(penalties(1.5f, 2, 0f, 0f), 4);
        float[] logits = {2f, 1.9f, -1f, -1.2f};
        assertEquals(0, s.sample(logits));
        s.accept(0);
        // 2 / 1.5 = 1.33 < 1.9
        assertEquals(1, s.sample(logits));
        s.accept(1);
        // both penalized: 1.33 vs 1.27
        assertEquals(0, s.sample(logits));
        // negative logits are multiplied: -1 * 1.5 = -1.5 < -1.2
        Sampler neg = new Sampler(penalties(1.5f, 2, 0f, 0f), 2);
        neg.acceptPrompt(new int[] {0});
        assertEquals(1, neg.sample(new float[] {-1f, -1.2f}));
        // Only the last N tokens count: after two more tokens, 0 is out of the window.
        s.accept(3);
        s.accept(3);
        assertEquals(0, s.sample(logits));
        assertArrayEquals(new float[] {2f, 1.9f, -1f, -1.2f}, logits, "caller's logits must not change");
    }

    @Test
    void repetitionWindowMinusOneMeansEverything() {
        Sampler s = new Sampler(penalties(1.5f, -1, 0f, 0f), 4);
        s.acceptPrompt(new int[] {0});
        for (int i = 0; i < 100; i++) s.accept(3);
        assertEquals(1, s.sample(new float[] {2f, 1.9f, -1f, -1.2f}));
    }

    @Test
    void presenceAndFrequencyCountGeneratedTokensOnly() {
        float[] logits = {2f, 1.5f, 0f};
        Sampler freq = new Sampler(penalties(1f, 64, 0f, 0.3f), 3);
        freq.acceptPrompt(new int[] {0, 0, 0, 0});
        assertEquals(0, freq.sample(logits), "prompt tokens do not count");
        freq.accept(0);
        assertEquals(0, freq.sample(logits)); // 2 - 0.3 = 1.7
        freq.accept(0);
        assertEquals(1, freq.sample(logits)); // 2 - 0.6 = 1.4
        Sampler pres = new Sampler(penalties(1f, 64, 0.6f, 0f), 3);
        pres.accept(0);
        assertEquals(1, pres.sample(logits)); // 2 - 0.6 = 1.4
        pres.accept(0);
        pres.accept(0);
        assertEquals(1, pres.sample(logits)); // presence counts once
        pres.accept(1);
        assertEquals(0, pres.sample(logits)); // 1.4 vs 0.9
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        float[] logits = new float[500];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        SamplingParams p = new SamplingParams(0.9f, 40, 0.95f, 0.05f, 1.1f, 64, 0.1f, 0.1f, 1234, 100, List.of(), 0);
        int[] a = run(new Sampler(p, 500), logits);
        int[] b = run(new Sampler(p, 500), logits);
        assertArrayEquals(a, b);
        SamplingParams q = new SamplingParams(0.9f, 40, 0.95f, 0.05f, 1.1f, 64, 0.1f, 0.1f, 1235, 100, List.of(), 0);
        assertFalse(java.util.Arrays.equals(a, run(new Sampler(q, 500), logits)));
    }

    private static int[] run(Sampler s, float[] logits) {
        int[] out = new int[200];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(logits);
            s.accept(out[i]);
        }
        return out;
    }

    @Test
    void samplingDoesNotAllocate() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int vocab = 32000;
        float[] logits = new float[vocab];
        SplittableRandom r = new SplittableRandom(2);
        for (int i = 0; i < vocab; i++) logits[i] = (float) r.nextGaussian() * 3;
        SamplingParams p = new SamplingParams(0.8f, 0, 0.9f, 0.02f, 1.1f, 64, 0.2f, 0.2f, 99, 100, List.of(), 0);
        Sampler s = new Sampler(p, vocab);
        for (int i = 0; i < 300; i++) s.accept(s.sample(logits)); // warm up
        long tid = Thread.currentThread().threadId();
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 300; i++) s.accept(s.sample(logits));
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        assertTrue(allocated < 1024, "sampling allocated " + allocated + " bytes");
    }

    @Test
    void topLogprobsAreLogSoftmaxMostLikelyFirst() {
        float[] logits = {1f, 3f, 2f, 3f, -5f};
        int[] ids = new int[3];
        float[] lp = new float[3];
        assertEquals(3, Sampler.topLogprobs(logits, 3, ids, lp));
        assertArrayEquals(new int[] {1, 3, 2}, ids);
        double lse = Math.log(Math.exp(1) + 2 * Math.exp(3) + Math.exp(2) + Math.exp(-5));
        assertEquals(3 - lse, lp[0], 1e-5);
        assertEquals(3 - lse, lp[1], 1e-5);
        assertEquals(2 - lse, lp[2], 1e-5);
        assertEquals(-5 - lse, Sampler.logprob(logits, 4), 1e-5);
        int[] many = new int[10];
        assertEquals(5, Sampler.topLogprobs(logits, 10, many, new float[10]));
        // Over a prefix (padding rows excluded): the softmax of the first three logits only.
        double lse3 = Math.log(Math.exp(1) + Math.exp(3) + Math.exp(2));
        assertEquals(2 - lse3, Logprobs.logprob(logits, 3, 2), 1e-5);
        assertEquals(2, Logprobs.top(logits, 3, 2, ids, lp));
        assertArrayEquals(new int[] {1, 2}, Arrays.copyOf(ids, 2));
        assertEquals(3 - lse3, lp[0], 1e-5);
        assertThrows(IllegalArgumentException.class, () -> Logprobs.logprob(logits, 3, 3));
    }

    @Test
    void badParametersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(params(-1f, 0, 1f, 0f, 1), 4));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(params(1f, -1, 1f, 0f, 1), 4));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(params(1f, 0, 0f, 0f, 1), 4));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(params(1f, 0, 1f, 1.5f, 1), 4));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(penalties(0f, 64, 0f, 0f), 4));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(SamplingParams.greedy(1), 0));
        Sampler s = new Sampler(SamplingParams.greedy(1), 4);
        assertThrows(IllegalArgumentException.class, () -> s.sample(new float[3]));
        assertThrows(IllegalArgumentException.class, () -> s.accept(4));
    }
}
