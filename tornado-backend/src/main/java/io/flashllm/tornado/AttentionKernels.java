package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Attention over a KV cache that lives on the device for the whole sequence: keys and values are
 * written there as they are made and never cross the bus.
 */
public final class AttentionKernels {
    private AttentionKernels() {}

    /**
     * One work group per query head ({@link WorkGroups}): softmax(q·K^T * scale) V over positions
     * {@code first..pos} of its kv head ({@code h / group}), where first is 0 or, under a sliding
     * window, pos - window + 1. {@code qkv} holds this step's q, k and v one after the other (k at
     * {@code qDim}, v at {@code qDim + kvDim}). The group's items score every
     * {@link WorkGroups#SIZE}-th position, share the maximum and the sum through
     * {@link GroupReductions}, then each weighs the values of one dimension over all positions.
     * {@code scores} holds {@code ctx} floats per head.
     *
     * <p>Each group first writes this step's key and value of its kv head into the cache (layout
     * {@code [layer][position][kvDim]} from {@code layerBase}), so the store needs no task of its
     * own: the groups of one kv head write the same values, and a barrier makes a group's writes
     * visible to its own items, which is all it reads. (Reading this position from {@code qkv} in a
     * branch instead miscompiles: TornadoVM 5.2 merged the two branches' dot products wrongly once
     * their loops were not unrolled.)
     */
    public static void attend(KernelContext k, FloatArray qkv, FloatArray keys, FloatArray values, FloatArray scores,
                              FloatArray out, IntArray pos, int layerBase, int group, int headDim, int qDim, int kvDim,
                              int ctx, int window, float scale) {
        int h = k.groupIdx;
        int t = k.localIdx;
        int last = pos.get(0);
        int first = 0;
        if (window > 0 && last - window + 1 > 0) {
            first = last - window + 1;
        }
        int kvOff = (h / group) * headDim;
        int qOff = h * headDim;
        int sOff = h * ctx;
        for (int d = t; d < headDim; d += WorkGroups.SIZE) {
            int at = layerBase + last * kvDim + kvOff + d;
            keys.set(at, qkv.get(qDim + kvOff + d));
            values.set(at, qkv.get(qDim + kvDim + kvOff + d));
        }
        k.globalBarrier();
        float max = -3.4e38f;
        for (int p = first + t; p <= last; p += WorkGroups.SIZE) {
            int row = layerBase + p * kvDim + kvOff;
            float s = 0f;
            for (int d = 0; d < headDim; d++) {
                s += qkv.get(qOff + d) * keys.get(row + d);
            }
            s = s * scale;
            scores.set(sOff + p, s);
            max = TornadoMath.max(max, s);
        }
        float groupMax = GroupReductions.max(k, max);
        float sum = 0f;
        for (int p = first + t; p <= last; p += WorkGroups.SIZE) {
            float e = TornadoMath.exp(scores.get(sOff + p) - groupMax);
            scores.set(sOff + p, e);
            sum += e;
        }
        float inv = 1f / GroupReductions.sum(k, sum);
        // Every item reads scores the others wrote (global memory).
        k.globalBarrier();
        for (int d = t; d < headDim; d += WorkGroups.SIZE) {
            float acc = 0f;
            for (int p = first; p <= last; p++) {
                acc += scores.get(sOff + p) * values.get(layerBase + p * kvDim + kvOff + d);
            }
            out.set(qOff + d, acc * inv);
        }
    }
}
