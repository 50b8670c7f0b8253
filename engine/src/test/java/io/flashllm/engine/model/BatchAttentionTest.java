package io.flashllm.engine.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prompt batch's attention as matrix products against the plain double-precision attention of
 * {@link AttentionTest}, query by query: batches that start at position 0 and further in, row counts
 * and head counts that leave a last tile partly filled, tiles that span rows (one to three heads a
 * row), sliding windows wide and narrow (two rows of a tile then attend to no common position),
 * soft-capping and sinks, every cache type, and heads of one to eight vectors. The batch's rows sit
 * among other heads' queries in the arrays (as a layer's query rows hold every head), and no output
 * outside the batch's heads changes.
 */
class BatchAttentionTest {

    @Test
    void batchAttentionEqualsPlainAttentionPerQuery() {
        Random rnd = new Random(13);
        for (KvCacheType type : KvCacheType.values()) {
            for (int headDim : new int[]{64, 128, 48}) { // 48: three vectors at 512 bits, a tile of one after none of four
                if (type == KvCacheType.Q8_0 && headDim % 32 != 0) continue;
                int kvHeads = 2, layers = 2, ctx = 77, kvDim = kvHeads * headDim;
                try (KvCache cache = new KvCache(type, layers, ctx, kvDim, headDim)) {
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
                    double[][] k = AttentionTest.stored(type, keys[1]), v = AttentionTest.stored(type, values[1]);
                    for (int heads : new int[]{1, 2, 3, 4, 8}) {
                        // {start, count, window}
                        for (int[] batch : new int[][]{{0, 77, 0}, {0, 5, 0}, {10, 37, 0}, {40, 37, 0}, {0, 77, 20}, {30, 47, 2}, {50, 2, 0}}) {
                            check(cache, k, v, headDim, heads, batch[0], batch[1], batch[2], rnd, type);
                        }
                    }
                }
            }
        }
    }

    private static void check(KvCache cache, double[][] keys, double[][] values, int headDim, int heads, int start,
                              int count, int window, Random rnd, KvCacheType type) {
        int kvHead = 1;
        int qStride = (heads + 2) * headDim, qOff = headDim; // a head before the batch's and one after
        float[] q = new float[count * qStride];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
        float softcap = heads == 4 ? 2f : 0f; // tight: most scores are capped
        float[] sinks = heads == 3 ? new float[]{7f, 1f, -2f, 0.5f} : null; // from index 1
        float scale = (float) (1 / Math.sqrt(headDim));
        int first = window > 0 ? Math.max(0, start - window + 1) : 0, last = start + count - 1;
        // the panels exactly as Transformer prepares them, and over a wider span
        for (int[] span : new int[][]{{first, last}, {Math.max(0, first - 3), cache.contextLength() - 1}}) {
            BatchAttention.Panels panels = BatchAttention.prepare(cache, 1, kvHead, headDim, span[0], span[1]);
            float[] out = new float[q.length];
            Arrays.fill(out, Float.NaN);
            BatchAttention.attend(panels, heads, q, qOff, qStride, count, start, window, scale, softcap, sinks, 1, out);
            for (int b = 0; b < count; b++) {
                int rowLast = start + b, rowFirst = window > 0 ? Math.max(0, rowLast - window + 1) : 0;
                for (int j = 0; j < heads; j++) {
                    int o = b * qStride + qOff + j * headDim;
                    double[] want = AttentionTest.plain(keys, values, kvHead * headDim, headDim, q, o, rowFirst, rowLast, scale,
                            softcap, sinks == null ? null : (double) sinks[1 + j]);
                    for (int d = 0; d < headDim; d++) {
                        String at = type + " headDim " + headDim + " heads " + heads + " batch " + start + "+" + count
                                + " window " + window + " span " + span[0] + ".." + span[1] + " row " + b + " head " + j + " dim " + d;
                        assertEquals(want[d], out[o + d], 2e-5 * (1 + Math.abs(want[d])), at);
                    }
                }
                for (int i = 0; i < qOff; i++) assertTrue(Float.isNaN(out[b * qStride + i]), "wrote before the heads");
                for (int i = qOff + heads * headDim; i < qStride; i++) assertTrue(Float.isNaN(out[b * qStride + i]), "wrote after the heads");
            }
        }
    }

    @Test
    void headsThatAreNotWholeVectorsOrSpansOverTheLimitAreLeftToTheRows() {
        try (KvCache odd = new KvCache(KvCacheType.F16, 1, 32, 2 * 72, 72)) {
            // 72 is whole vectors at 256 and 128 bits but not at 512
            if (72 % io.flashllm.kernels.cpu.Simd.L != 0) assertNull(BatchAttention.prepare(odd, 0, 0, 72, 0, 31));
        }
        int positions = BatchAttention.LIMIT / (2 * 64) + 1;
        try (KvCache big = new KvCache(KvCacheType.F16, 1, positions, 64, 64)) {
            assertNull(BatchAttention.prepare(big, 0, 0, 64, 0, positions - 1));
        }
    }
}
