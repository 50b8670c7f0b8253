package io.flashllm.engine.model;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The grouped attention against a plain double-precision attention, head by head, over the values
 * the cache holds (F16-rounded, or Q8_0 blocks quantized here as ggml's reference does).
 */
class AttentionTest {

    @Test
    void groupedAttentionEqualsPlainAttentionPerHead() {
        Random rnd = new Random(7);
        for (KvCacheType type : KvCacheType.values()) {
            for (int headDim : new int[]{64, 72, 5}) { // 72 and 5 leave a tail after the vectors
                if (type == KvCacheType.Q8_0 && headDim % 32 != 0) continue; // refused: see below
                for (int group : new int[]{1, 4, 3}) {
                    int kvHeads = 2, layers = 2, ctx = 48;
                    int kvDim = kvHeads * headDim;
                    try (KvCache cache = new KvCache(type, layers, ctx, kvDim, headDim)) {
                        Filled filled = fill(cache, layers, ctx, kvDim, rnd);
                        float[][][] keys = filled.keys(), values = filled.values();
                        float scale = (float) (1 / Math.sqrt(headDim));
                        for (int[] range : new int[][]{{0, 0}, {0, 5}, {0, 47}, {30, 47}, {0, 5, 1}, {30, 47, 1}}) {
                            int first = range[0], last = range[1];
                            // gpt-oss's sinks, one per head of the group (from head 2 of the array): a large one
                            // takes most of the weight, a small one little.
                            float[] sinks = range.length > 2 ? new float[]{9f, 9f, 4f, -3f, 0.5f, 2f} : null;
                            int layer = 1, kvHead = 1;
                            float[] q = new float[group * headDim + 3];
                            for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
                            int qOff = 3; // the group's heads need not start at 0
                            float[] out = new float[group * headDim + 3];
                            float[] scores = new float[(group + 1) * ctx];
                            Attention.attendGroup(cache, layer, kvHead, group, headDim, q, qOff, first, last, scale,
                                    0f, sinks, 2, scores, ctx, ctx, out, 3);
                            for (int j = 0; j < group; j++) {
                                double[] want = plain(stored(type, keys[layer]), stored(type, values[layer]), kvHead * headDim, headDim, q,
                                        qOff + j * headDim, first, last, scale, 0f, sinks == null ? null : (double) sinks[2 + j]);
                                for (int d = 0; d < headDim; d++) {
                                    String at = type + " headDim " + headDim + " group " + group + " positions "
                                            + first + ".." + last + " head " + j + " dim " + d;
                                    assertEquals(want[d], out[3 + j * headDim + d], 2e-5 * (1 + Math.abs(want[d])), at);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * softmax(q·K^T * scale) V for one head, in doubles, over the values the cache holds; with softcap > 0
     * a scaled score s is softcap * tanh(s / softcap) (Gemma 2); with a sink, the softmax's denominator has
     * one more term, exp(sink), as gpt-oss's attention has.
     */
    static double[] plain(double[][] keys, double[][] values, int headOff, int headDim,
                          float[] q, int qOff, int first, int last, float scale, float softcap, Double sink) {
        double[] s = new double[last + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = first; t <= last; t++) {
            double dot = 0;
            for (int d = 0; d < headDim; d++) dot += (double) q[qOff + d] * keys[t][headOff + d];
            s[t] = softcap > 0 ? softcap * Math.tanh(dot * scale / softcap) : dot * scale;
            max = Math.max(max, s[t]);
        }
        if (sink != null) max = Math.max(max, sink);
        double sum = sink == null ? 0 : Math.exp(sink - max);
        for (int t = first; t <= last; t++) {
            s[t] = Math.exp(s[t] - max);
            sum += s[t];
        }
        double[] out = new double[headDim];
        for (int t = first; t <= last; t++) {
            for (int d = 0; d < headDim; d++) out[d] += s[t] / sum * values[t][headOff + d];
        }
        return out;
    }

    /** What {@link #fill} stored: keys and values as [layer][position][kvDim]. */
    record Filled(float[][][] keys, float[][][] values) {}

    /** Every layer and position of {@code cache} given keys and values drawn from a standard normal, also returned. */
    static Filled fill(KvCache cache, int layers, int ctx, int kvDim, Random rnd) {
        float[][][] keys = new float[layers][ctx][kvDim], values = new float[layers][ctx][kvDim];
        for (int l = 0; l < layers; l++) {
            for (int t = 0; t < ctx; t++) {
                for (int i = 0; i < kvDim; i++) {
                    keys[l][t][i] = (float) rnd.nextGaussian();
                    values[l][t][i] = (float) rnd.nextGaussian();
                }
                cache.store(l, t, keys[l][t], 0, values[l][t], 0);
            }
        }
        return new Filled(keys, values);
    }

    /** The rows as the cache gives them back. */
    static double[][] stored(KvCacheType type, float[][] rows) {
        double[][] out = new double[rows.length][];
        for (int t = 0; t < rows.length; t++) {
            float[] r = rows[t];
            double[] o = out[t] = new double[r.length];
            for (int i = 0; i < r.length; i++) {
                o[i] = switch (type) {
                    case F32 -> r[i];
                    case F16 -> Float.float16ToFloat(Float.floatToFloat16(r[i]));
                    case Q8_0 -> {
                        // ggml's quantize_row_q8_0_ref: d = max|x| / 127 over the block of 32, q = round(x / d)
                        // half away from zero; the reader multiplies q by d as stored (F16).
                        int b = i / 32 * 32;
                        float amax = 0;
                        for (int j = b; j < b + 32; j++) amax = Math.max(amax, Math.abs(r[j]));
                        float d = amax / 127f;
                        float q = d == 0 ? 0 : Math.signum(r[i]) * Math.round(Math.abs(r[i] * (1f / d)));
                        yield (double) Float.float16ToFloat(Float.floatToFloat16(d)) * q;
                    }
                };
            }
        }
        return out;
    }

    /**
     * The blocked form (heads of whole vectors, a block of positions per vector of scores) against the
     * row-wise one, bit for bit: its sums pair lanes as the row-wise fold does, and its values are
     * added in the same order. Ranges start inside a block and end in a partial one, and the arrays
     * end right after the last head's positions, so a store past them would throw.
     */
    @Test
    void blockedAttentionHasTheRowwiseBits() {
        Random rnd = new Random(11);
        for (KvCacheType type : KvCacheType.values()) {
            for (int headDim : new int[]{64, 128}) {
                for (int group : new int[]{1, 4, 3}) {
                    int kvHeads = 2, layers = 2, ctx = 77;
                    try (KvCache cache = new KvCache(type, layers, ctx, kvHeads * headDim, headDim)) {
                        AttentionBench.fillGaussian(cache, layers, ctx, kvHeads * headDim, rnd);
                        float[] q = new float[group * headDim];
                        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
                        for (int[] range : new int[][]{{0, 0}, {0, 15}, {0, 16}, {3, 40}, {0, 76}, {61, 76}}) {
                            int first = range[0], last = range[1];
                            float[] sinks = group == 3 ? new float[]{1f, -2f, 0.5f} : null;
                            float softcap = group == 4 ? 30f : 0f;
                            float[] blockedScores = new float[group * ctx], rowScores = new float[group * ctx];
                            float[] blockedOut = new float[group * headDim], rowOut = new float[group * headDim];
                            Attention.attendBlocked(cache, 1, 1, group, headDim, q, 0, first, last, 0.125f, softcap, sinks, 0,
                                    blockedScores, 0, ctx, blockedOut, 0);
                            Attention.attendRowwise(cache, 1, 1, group, headDim, q, 0, first, last, 0.125f, softcap, sinks, 0,
                                    rowScores, 0, ctx, rowOut, 0);
                            String at = type + " headDim " + headDim + " group " + group + " positions " + first + ".." + last;
                            for (int j = 0; j < group; j++) {
                                for (int t = first; t <= last; t++) {
                                    assertEquals(rowScores[j * ctx + t], blockedScores[j * ctx + t], 0f, at + " head " + j + " weight " + t);
                                }
                            }
                            for (int i = 0; i < rowOut.length; i++) assertEquals(rowOut[i], blockedOut[i], 0f, at + " output " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void q8_0CacheRefusesHeadsThatAreNotWholeBlocks() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new KvCache(KvCacheType.Q8_0, 2, 16, 2 * 72, 72));
        assertTrue(e.getMessage().contains("heads have 72") && e.getMessage().contains("--kv-type f16"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new KvCache(KvCacheType.F16, 2, 16, 100, 64)); // not whole heads
        // Whole blocks per head, a Q8_0 row is 34 bytes per 32 values: 53% of F16's.
        try (KvCache q8 = new KvCache(KvCacheType.Q8_0, 2, 16, 2 * 64, 64);
             KvCache f16 = new KvCache(KvCacheType.F16, 2, 16, 2 * 64, 64)) {
            assertEquals(2L * 2 * 16 * 4 * 34, q8.byteSize());
            assertEquals(2L * 2 * 16 * 128 * 2, f16.byteSize());
            // Head-major: kv head 1's keys follow head 0's 16 positions; the values follow the keys.
            assertEquals(34 * 2, q8.rowOffset(0, false, 0, 1));
            assertEquals(16 * 34 * 2, q8.rowOffset(0, false, 1, 0));
            assertEquals(2 * 16 * 34 * 2, q8.rowOffset(0, true, 0, 0));
            assertEquals(4 * 16 * 34 * 2, q8.rowOffset(1, false, 0, 0));
        }
    }
}
