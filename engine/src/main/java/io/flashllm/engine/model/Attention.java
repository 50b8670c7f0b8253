package io.flashllm.engine.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Scaled dot-product attention of one query head over the cached positions {@code 0..last} of its
 * key/value head (causal by construction: later positions are not in the cache yet, or are ignored).
 */
final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Attention() {}

    /**
     * {@code out[outOff..+headDim] = softmax(q·K^T * scale) V} over positions 0..last of kv head
     * {@code kvHead}; {@code scores} holds at least last+1 floats from {@code scoresOff}.
     */
    static void attend(KvCache cache, int layer, int kvHead, int headDim, float[] q, int qOff, int last,
                       float scale, float[] scores, int scoresOff, float[] out, int outOff) {
        long headBytes = (long) kvHead * headDim * cache.type().bytes;
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t <= last; t++) {
            float s = dot(cache, cache.keyOffset(layer, t) + headBytes, q, qOff, headDim) * scale;
            scores[scoresOff + t] = s;
            if (s > max) max = s;
        }
        float sum = 0f;
        for (int t = 0; t <= last; t++) {
            float e = (float) Math.exp(scores[scoresOff + t] - max);
            scores[scoresOff + t] = e;
            sum += e;
        }
        float inv = 1f / sum;
        java.util.Arrays.fill(out, outOff, outOff + headDim, 0f);
        for (int t = 0; t <= last; t++) {
            accumulate(cache, cache.valueOffset(layer, t) + headBytes, scores[scoresOff + t] * inv, out, outOff, headDim);
        }
    }

    private static float dot(KvCache cache, long at, float[] q, int qOff, int n) {
        int i = 0;
        float sum = 0f;
        if (cache.type() == KvCacheType.F32) {
            MemorySegment m = cache.memory();
            FloatVector acc = FloatVector.zero(S);
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                FloatVector k = FloatVector.fromMemorySegment(S, m, at + 4L * i, ByteOrder.nativeOrder());
                acc = k.fma(FloatVector.fromArray(S, q, qOff + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) sum += cache.get(at, i) * q[qOff + i];
        return sum;
    }

    private static void accumulate(KvCache cache, long at, float a, float[] out, int outOff, int n) {
        int i = 0;
        if (cache.type() == KvCacheType.F32) {
            MemorySegment m = cache.memory();
            FloatVector va = FloatVector.broadcast(S, a);
            int bound = S.loopBound(n);
            for (; i < bound; i += S.length()) {
                FloatVector v = FloatVector.fromMemorySegment(S, m, at + 4L * i, ByteOrder.nativeOrder());
                v.fma(va, FloatVector.fromArray(S, out, outOff + i)).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) out[outOff + i] += a * cache.get(at, i);
    }
}
