package io.flashllm.engine.model;

import io.flashllm.kernels.bench.ThreadAllocation;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attention runs for every kv head of every layer of every token: once compiled it allocates nothing
 * (under 1 KiB per 1,000 calls) for each cache type, with heads of whole vectors (the blocked form,
 * its partial last block included, and a prompt batch's matrix products) and without (the row-wise
 * form). Boxed vectors would show as megabytes.
 */
class AttentionAllocationTest {
    @Test
    void attentionAllocatesNothingOnceCompiled() {
        Random rnd = new Random(5);
        int ctx = 45, group = 4;
        for (KvCacheType type : KvCacheType.values()) {
            for (int headDim : new int[]{64, 72}) {
                if (type == KvCacheType.Q8_0 && headDim % 32 != 0) continue;
                try (KvCache cache = new KvCache(type, 1, ctx, headDim, headDim)) {
                    float[] key = new float[headDim], value = new float[headDim];
                    for (int t = 0; t < ctx; t++) {
                        for (int i = 0; i < headDim; i++) {
                            key[i] = (float) rnd.nextGaussian();
                            value[i] = (float) rnd.nextGaussian();
                        }
                        cache.store(0, t, key, 0, value, 0);
                    }
                    float[] q = new float[group * headDim], out = new float[group * headDim], scores = new float[group * ctx];
                    for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
                    int dim = headDim;
                    Runnable attend = () -> Attention.attendGroup(cache, 0, 0, group, dim, q, 0, 0, ctx - 1, 0.125f, 0f, null, 0,
                            scores, 0, ctx, out, 0);
                    for (int i = 0; i < 5_000; i++) attend.run();
                    long allocated = ThreadAllocation.cleanestWindow(attend, 1_000, 20);
                    assertTrue(allocated < 1024, type + " heads of " + headDim + ": 1,000 calls allocated " + allocated + " bytes");
                    if (!BatchAttention.applies(headDim)) continue;
                    // a prompt batch of 9 rows at positions 36..44 with 3 of the group's heads, as matrix
                    // products: 27 queries, so tiles that span rows and a last tile of three
                    float[] qs = new float[9 * group * headDim], outs = new float[qs.length];
                    for (int i = 0; i < qs.length; i++) qs[i] = (float) rnd.nextGaussian();
                    Runnable batch = () -> BatchAttention.attend(cache, 0, 0, dim, 3, qs, 0, group * dim, 9, ctx - 9, 0,
                            0.125f, 0f, null, 0, outs);
                    for (int i = 0; i < 5_000; i++) batch.run();
                    allocated = ThreadAllocation.cleanestWindow(batch, 1_000, 20);
                    assertTrue(allocated < 1024, type + " heads of " + headDim + ": 1,000 batches allocated " + allocated + " bytes");
                }
            }
        }
    }
}
