package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * RMSNorm and LayerNorm, each one task of a single work group ({@link WorkGroups}): its items take
 * every {@link WorkGroups#SIZE}-th element, {@link GroupReductions} shares the sums, and each item
 * then writes its own elements. A decode-step vector is a few thousand floats: one group is plenty,
 * and one task launches once. In place ({@code out} = {@code x}) is safe: every read of {@code x}
 * for the sums is behind the reduction's barriers before any item writes.
 */
public final class NormKernels {
    private NormKernels() {}

    /** {@code out[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]}. */
    public static void rmsnorm(KernelContext k, FloatArray x, FloatArray w, FloatArray out, int n, float eps) {
        float inv = inverseRms(k, x, n, eps);
        for (int i = k.localIdx; i < n; i += WorkGroups.SIZE) {
            out.set(i, x.get(i) * inv * w.get(i));
        }
    }

    /**
     * {@code 1 / sqrt(mean(x^2) + eps)} over the group's items, every item getting it; also what the
     * products that normalize their input ({@link MatVecKernels}) compute per group.
     */
    static float inverseRms(KernelContext k, FloatArray x, int n, float eps) {
        float ss = 0f;
        for (int i = k.localIdx; i < n; i += WorkGroups.SIZE) {
            float v = x.get(i);
            ss += v * v;
        }
        return 1f / TornadoMath.sqrt(GroupReductions.sum(k, ss) / n + eps);
    }

    /** {@code out[i] = (x[i] - mean) / sqrt(var + eps) * w[i] + b[i]} (mean, then variance: two passes, as the CPU does). */
    public static void layernorm(KernelContext k, FloatArray x, FloatArray w, FloatArray b, FloatArray out, int n,
                                 float eps) {
        float sum = 0f;
        for (int i = k.localIdx; i < n; i += WorkGroups.SIZE) {
            sum += x.get(i);
        }
        float mean = GroupReductions.sum(k, sum) / n;
        float var = 0f;
        for (int i = k.localIdx; i < n; i += WorkGroups.SIZE) {
            float d = x.get(i) - mean;
            var += d * d;
        }
        float inv = 1f / TornadoMath.sqrt(GroupReductions.sum(k, var) / n + eps);
        for (int i = k.localIdx; i < n; i += WorkGroups.SIZE) {
            out.set(i, (x.get(i) - mean) * inv * w.get(i) + b.get(i));
        }
    }
}
