package io.flashllm.engine.model;

import io.flashllm.kernels.cpu.RowKernel;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Scaled dot-product attention of one query head over the cached positions {@code first..last} of
 * its key/value head (causal by construction: later positions are not in the cache yet, or are
 * ignored; {@code first} > 0 only under a sliding window). Keys and values are read in place from
 * the off-heap cache by the kernels' row routines for the cache's element type.
 */
final class Attention {
    private Attention() {}

    /**
     * {@code out[outOff..+headDim] = softmax(q·K^T * scale) V} over positions first..last of kv head
     * {@code kvHead}; {@code scores} holds at least last+1 floats from {@code scoresOff}.
     */
    static void attend(KvCache cache, int layer, int kvHead, int headDim, float[] q, int qOff, int first, int last,
                       float scale, float[] scores, int scoresOff, float[] out, int outOff) {
        RowKernel rows = cache.rowKernel();
        MemorySegment m = cache.memory();
        long headBytes = (long) kvHead * headDim * cache.type().bytes;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = first; t <= last; t++) {
            float s = rows.dot(m, cache.keyOffset(layer, t) + headBytes, headDim, q, qOff) * scale;
            scores[scoresOff + t] = s;
            if (s > max) max = s;
        }
        float sum = 0f;
        for (int t = first; t <= last; t++) {
            float e = (float) Math.exp(scores[scoresOff + t] - max);
            scores[scoresOff + t] = e;
            sum += e;
        }
        float inv = 1f / sum;
        Arrays.fill(out, outOff, outOff + headDim, 0f);
        for (int t = first; t <= last; t++) {
            rows.axpy(m, cache.valueOffset(layer, t) + headBytes, headDim, scores[scoresOff + t] * inv, out, outOff);
        }
    }
}
