package io.flashllm.engine.model;

import io.flashllm.kernels.Ops;
import io.flashllm.kernels.cpu.RowKernel;
import io.flashllm.kernels.cpu.Simd;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;

/**
 * Scaled dot-product attention of the query heads that share one key/value head (grouped-query
 * attention; a group of one is plain multi-head attention) over the cached positions
 * {@code first..last} (causal by construction: later positions are not in the cache yet, or are
 * ignored; {@code first} > 0 only under a sliding window).
 *
 * <p>Each cached key and value row is widened to floats once for the whole group, by the kernels'
 * row routine for the cache's element type, and then read from L1 by every head of the group: one
 * F16 widening per row instead of one per head, and no call per head and position. The softmax
 * is {@link Ops#softmax}, over vectors.
 */
final class Attention {
    /** Per thread, one key or value row widened to floats (grown to the head size on first use). */
    private static final ThreadLocal<float[]> ROW = ThreadLocal.withInitial(() -> new float[0]);

    private Attention() {}

    /**
     * For the {@code group} query heads at {@code q[qOff + j * headDim ..]}, j = 0..group-1, all
     * reading kv head {@code kvHead}: {@code out[outOff + j * headDim ..] = softmax(q_j·K^T * scale) V}
     * over positions first..last. Head j's scores go to {@code scores[scoresOff + j * scoresStride + t]},
     * which must hold position {@code last}. With {@code softcap} > 0 (Gemma 2) a scaled score s becomes
     * {@code softcap * tanh(s / softcap)} before the softmax. With {@code sinks} (gpt-oss) head j's softmax has
     * one more term, {@code sinks[sinkOff + j]}, that takes its share of the weight and adds no value.
     */
    static void attendGroup(KvCache cache, int layer, int kvHead, int group, int headDim, float[] q, int qOff,
                            int first, int last, float scale, float softcap, float[] sinks, int sinkOff,
                            float[] scores, int scoresOff, int scoresStride, float[] out, int outOff) {
        RowKernel rows = cache.rowKernel();
        MemorySegment m = cache.memory();
        long headBytes = cache.headOffset(kvHead);
        float[] row = ROW.get();
        if (row.length < headDim) {
            row = new float[headDim];
            ROW.set(row);
        }
        int bound = headDim - headDim % L;

        for (int t = first; t <= last; t++) {
            rows.dequant(m, cache.keyOffset(layer, t) + headBytes, headDim, row, 0);
            for (int j = 0; j < group; j++) {
                int qj = qOff + j * headDim;
                FloatVector acc = FloatVector.zero(F);
                for (int d = 0; d < bound; d += L) {
                    acc = FloatVector.fromArray(F, q, qj + d).fma(FloatVector.fromArray(F, row, d), acc);
                }
                FloatVector fold1 = acc.add(acc.rearrange(Simd.FOLD_1));
                fold1 = fold1.add(fold1.rearrange(Simd.FOLD_2), Simd.FOLD_2_ON);
                fold1 = fold1.add(fold1.rearrange(Simd.FOLD_3), Simd.FOLD_3_ON);
                float s = fold1.lane(0) + fold1.lane(1);
                for (int d = bound; d < headDim; d++) s += q[qj + d] * row[d];
                scores[scoresOff + j * scoresStride + t] = s * scale;
            }
        }

        for (int j = 0; j < group; j++) {
            if (softcap > 0) Ops.softcap(scores, scoresOff + j * scoresStride + first, last - first + 1, softcap);
            Ops.softmax(scores, scoresOff + j * scoresStride + first, last - first + 1,
                    sinks != null ? sinks[sinkOff + j] : Float.NEGATIVE_INFINITY);
            Arrays.fill(out, outOff + j * headDim, outOff + (j + 1) * headDim, 0f);
        }

        for (int t = first; t <= last; t++) {
            rows.dequant(m, cache.valueOffset(layer, t) + headBytes, headDim, row, 0);
            for (int j = 0; j < group; j++) {
                int oj = outOff + j * headDim;
                float p = scores[scoresOff + j * scoresStride + t];
                FloatVector pv = FloatVector.broadcast(F, p);
                for (int d = 0; d < bound; d += L) {
                    FloatVector.fromArray(F, row, d).fma(pv, FloatVector.fromArray(F, out, oj + d)).intoArray(out, oj + d);
                }
                for (int d = bound; d < headDim; d++) out[oj + d] += p * row[d];
            }
        }
    }
}
