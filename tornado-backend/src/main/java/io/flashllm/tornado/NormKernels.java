package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * RMSNorm and LayerNorm as two tasks each: a single-work-item reduction into {@code stats} (a
 * decode-step vector is a few thousand floats: one pass is cheaper than a tree reduction's extra
 * launches), then an element-wise pass over all work items.
 */
public final class NormKernels {
    private NormKernels() {}

    /** {@code stats[0] = 1 / sqrt(mean(x^2) + eps)}. */
    public static void rmsStats(FloatArray x, FloatArray stats, int n, float eps) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            float v = x.get(i);
            ss += v * v;
        }
        stats.set(0, 1f / TornadoMath.sqrt(ss / n + eps));
    }

    /** {@code out[i] = x[i] * stats[0] * w[i]}; in place when out is x. */
    public static void rmsApply(FloatArray x, FloatArray w, FloatArray stats, FloatArray out, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            out.set(i, x.get(i) * stats.get(0) * w.get(i));
        }
    }

    /** {@code stats[0] = mean(x)}, {@code stats[1] = 1 / sqrt(var(x) + eps)} (two passes, as the CPU does). */
    public static void layerStats(FloatArray x, FloatArray stats, int n, float eps) {
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            sum += x.get(i);
        }
        float mean = sum / n;
        float var = 0f;
        for (int i = 0; i < n; i++) {
            float d = x.get(i) - mean;
            var += d * d;
        }
        stats.set(0, mean);
        stats.set(1, 1f / TornadoMath.sqrt(var / n + eps));
    }

    /** {@code out[i] = (x[i] - mean) * inv * w[i] + b[i]}; in place when out is x. */
    public static void layerApply(FloatArray x, FloatArray w, FloatArray b, FloatArray stats, FloatArray out, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            out.set(i, (x.get(i) - stats.get(0)) * stats.get(1) * w.get(i) + b.get(i));
        }
    }
}
