package io.flashllm.engine.model;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prompt batch's attention as matrix products against the plain double-precision attention of
 * {@link AttentionTest}, query by query: batches that start at position 0 and further in, row counts
 * and head counts that leave a last tile partly filled, tiles that span rows (one to three heads a
 * row), sliding windows wide and narrow (two rows of a tile then attend to no common position),
 * soft-capping and sinks, every cache type, heads of one to eight vectors, and contexts of several
 * chunks. The batch's rows sit
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
                    AttentionTest.Filled filled = AttentionTest.fill(cache, layers, ctx, kvDim, rnd);
                    double[][] k = AttentionTest.stored(type, filled.keys()[1]), v = AttentionTest.stored(type, filled.values()[1]);
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
        float[] out = new float[q.length];
        Arrays.fill(out, Float.NaN);
        BatchAttention.attend(cache, 1, kvHead, headDim, heads, q, qOff, qStride, count, start, window, scale, softcap, sinks, 1, out);
        for (int b = 0; b < count; b++) {
            int rowLast = start + b, rowFirst = window > 0 ? Math.max(0, rowLast - window + 1) : 0;
            for (int j = 0; j < heads; j++) {
                int o = b * qStride + qOff + j * headDim;
                double[] want = AttentionTest.plain(keys, values, kvHead * headDim, headDim, q, o, rowFirst, rowLast, scale,
                        softcap, sinks == null ? null : (double) sinks[1 + j]);
                for (int d = 0; d < headDim; d++) {
                    String at = type + " headDim " + headDim + " heads " + heads + " batch " + start + "+" + count
                            + " window " + window + " row " + b + " head " + j + " dim " + d;
                    assertEquals(want[d], out[o + d], 2e-5 * (1 + Math.abs(want[d])), at);
                }
            }
            for (int i = 0; i < qOff; i++) assertTrue(Float.isNaN(out[b * qStride + i]), "wrote before the heads");
            for (int i = qOff + heads * headDim; i < qStride; i++) assertTrue(Float.isNaN(out[b * qStride + i]), "wrote after the heads");
        }
    }

    /**
     * Contexts longer than a chunk: batches whose rows attend across one, two and three chunks of
     * {@link BatchAttention#CHUNK} positions, with windows that start inside a chunk and that span a
     * boundary, and a score far above the rest in a later chunk (the running maximum then scales what
     * earlier chunks summed down to almost nothing) and in an earlier one.
     */
    @Test
    void batchesAcrossChunksEqualPlainAttention() {
        Random rnd = new Random(17);
        int headDim = 64, kvDim = 2 * headDim, ctx = 2 * BatchAttention.CHUNK + 80;
        try (KvCache cache = new KvCache(KvCacheType.F32, 2, ctx, kvDim, headDim)) {
            float[][] keys = new float[ctx][kvDim], values = new float[ctx][kvDim];
            float[] zeros = new float[kvDim];
            for (int t = 0; t < ctx; t++) {
                for (int i = 0; i < kvDim; i++) {
                    keys[t][i] = (float) (0.3 * rnd.nextGaussian());
                    values[t][i] = (float) rnd.nextGaussian();
                }
                // outliers: keys whose scores are far from the rest (about +-40 before a soft cap, by the sign of the query's sum)
                if (t == 700 || t == 100) for (int i = headDim; i < kvDim; i++) keys[t][i] = 40f;
                cache.store(0, t, zeros, 0, zeros, 0);
                cache.store(1, t, keys[t], 0, values[t], 0);
            }
            double[][] k = AttentionTest.stored(KvCacheType.F32, keys), v = AttentionTest.stored(KvCacheType.F32, values);
            for (int heads : new int[]{1, 4}) {
                for (int[] batch : new int[][]{{ctx - 64, 64, 0}, {500, 30, 0}, {1000, 37, 600}, {ctx - 9, 9, 100}, {0, 64, 0}}) {
                    check(cache, k, v, headDim, heads, batch[0], batch[1], batch[2], rnd, KvCacheType.F32);
                }
            }
        }
    }

    @Test
    void headsMustBeWholeVectors() {
        int odd = io.flashllm.kernels.cpu.Simd.L * 4 + 1;
        assertFalse(BatchAttention.applies(odd));
        assertTrue(BatchAttention.applies(io.flashllm.kernels.cpu.Simd.L * 4));
        try (KvCache cache = new KvCache(KvCacheType.F32, 1, 8, odd, odd)) {
            assertThrows(IllegalArgumentException.class, () -> BatchAttention.attend(cache, 0, 0, odd, 1, new float[2 * odd], 0,
                    odd, 2, 0, 0, 1f, 0f, null, 0, new float[2 * odd]));
        }
    }
}
