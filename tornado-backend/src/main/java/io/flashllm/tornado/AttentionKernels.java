package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Attention over a KV cache that lives on the device for the whole sequence: keys and values are
 * written there by {@link #store} and never cross the bus. Layout per cache: {@code [layer][position][kvDim]}.
 */
public final class AttentionKernels {
    private AttentionKernels() {}

    /** Writes this step's key and value rows at {@code pos} of the layer starting at {@code layerBase}. */
    public static void store(FloatArray k, FloatArray v, FloatArray keys, FloatArray values, IntArray pos,
                             int layerBase, int kvDim) {
        for (@Parallel int i = 0; i < kvDim; i++) {
            int at = layerBase + pos.get(0) * kvDim + i;
            keys.set(at, k.get(i));
            values.set(at, v.get(i));
        }
    }

    /**
     * One work item per query head: softmax(q·K^T * scale) V over positions {@code first..pos} of its
     * kv head ({@code h / group}), where first is 0 or, under a sliding window, pos - window + 1.
     * {@code scores} holds {@code ctx} floats per head.
     */
    public static void attend(FloatArray q, FloatArray keys, FloatArray values, FloatArray scores, FloatArray out,
                              IntArray pos, int layerBase, int heads, int group, int headDim, int kvDim, int ctx,
                              int window, float scale) {
        for (@Parallel int h = 0; h < heads; h++) {
            int last = pos.get(0);
            int first = 0;
            if (window > 0 && last - window + 1 > 0) {
                first = last - window + 1;
            }
            int kvOff = (h / group) * headDim;
            int qOff = h * headDim;
            int sOff = h * ctx;
            float max = -3.4e38f;
            for (int t = first; t <= last; t++) {
                int row = layerBase + t * kvDim + kvOff;
                float s = 0f;
                for (int d = 0; d < headDim; d++) {
                    s += q.get(qOff + d) * keys.get(row + d);
                }
                s = s * scale;
                scores.set(sOff + t, s);
                max = TornadoMath.max(max, s);
            }
            float sum = 0f;
            for (int t = first; t <= last; t++) {
                float e = TornadoMath.exp(scores.get(sOff + t) - max);
                scores.set(sOff + t, e);
                sum += e;
            }
            float inv = 1f / sum;
            for (int d = 0; d < headDim; d++) {
                out.set(qOff + d, 0f);
            }
            for (int t = first; t <= last; t++) {
                int row = layerBase + t * kvDim + kvOff;
                float p = scores.get(sOff + t) * inv;
                for (int d = 0; d < headDim; d++) {
                    out.set(qOff + d, out.get(qOff + d) + p * values.get(row + d));
                }
            }
        }
    }
}
