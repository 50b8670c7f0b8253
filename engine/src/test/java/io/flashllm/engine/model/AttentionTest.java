package io.flashllm.engine.model;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The grouped attention against a plain double-precision attention, head by head, over the same cache. */
class AttentionTest {

    @Test
    void groupedAttentionEqualsPlainAttentionPerHead() {
        Random rnd = new Random(7);
        for (KvCacheType type : KvCacheType.values()) {
            for (int headDim : new int[]{64, 72, 5}) { // 72 and 5 leave a tail after the vectors
                for (int group : new int[]{1, 4, 3}) {
                    int kvHeads = 2, layers = 2, ctx = 48;
                    int kvDim = kvHeads * headDim;
                    try (KvCache cache = new KvCache(type, layers, ctx, kvDim)) {
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
                        float scale = (float) (1 / Math.sqrt(headDim));
                        for (int[] range : new int[][]{{0, 0}, {0, 5}, {0, 47}, {30, 47}}) {
                            int first = range[0], last = range[1];
                            int layer = 1, kvHead = 1;
                            float[] q = new float[group * headDim + 3];
                            for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
                            int qOff = 3; // the group's heads need not start at 0
                            float[] out = new float[group * headDim + 3];
                            float[] scores = new float[(group + 1) * ctx];
                            Attention.attendGroup(cache, layer, kvHead, group, headDim, q, qOff, first, last, scale,
                                    scores, ctx, ctx, out, 3);
                            for (int j = 0; j < group; j++) {
                                double[] want = plain(keys[layer], values[layer], type, kvHead * headDim, headDim, q,
                                        qOff + j * headDim, first, last, scale);
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

    /** softmax(q·K^T * scale) V for one head, in doubles, over the values the cache holds (F16-rounded). */
    private static double[] plain(float[][] keys, float[][] values, KvCacheType type, int headOff, int headDim,
                                  float[] q, int qOff, int first, int last, float scale) {
        double[] s = new double[last + 1];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = first; t <= last; t++) {
            double dot = 0;
            for (int d = 0; d < headDim; d++) dot += (double) q[qOff + d] * stored(type, keys[t][headOff + d]);
            s[t] = dot * scale;
            max = Math.max(max, s[t]);
        }
        double sum = 0;
        for (int t = first; t <= last; t++) {
            s[t] = Math.exp(s[t] - max);
            sum += s[t];
        }
        double[] out = new double[headDim];
        for (int t = first; t <= last; t++) {
            for (int d = 0; d < headDim; d++) out[d] += s[t] / sum * stored(type, values[t][headOff + d]);
        }
        return out;
    }

    private static double stored(KvCacheType type, float v) {
        return type == KvCacheType.F32 ? v : Float.float16ToFloat(Float.floatToFloat16(v));
    }
}
