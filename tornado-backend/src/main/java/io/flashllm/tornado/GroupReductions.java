package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.math.TornadoMath;

/**
 * Sums and maxima across the {@link WorkGroups#SIZE} work items of a group, through local memory:
 * each item brings its partial value, a tree halves the count per step, and every item gets the
 * result. Every item of the group must call it (it holds barriers). Two methods, not one with an
 * operator flag: a branch on the flag inside the loop is a merge of float values, the construct
 * TornadoVM 5.2 was seen to miscompile (decision 0005).
 */
public final class GroupReductions {
    private GroupReductions() {}

    public static float sum(KernelContext k, float value) {
        float[] partial = k.allocateFloatLocalArray(WorkGroups.SIZE);
        int t = k.localIdx;
        partial[t] = value;
        k.localBarrier();
        for (int s = WorkGroups.SIZE / 2; s > 0; s >>= 1) {
            if (t < s) {
                partial[t] += partial[t + s];
            }
            k.localBarrier();
        }
        return partial[0];
    }

    public static float max(KernelContext k, float value) {
        float[] partial = k.allocateFloatLocalArray(WorkGroups.SIZE);
        int t = k.localIdx;
        partial[t] = value;
        k.localBarrier();
        for (int s = WorkGroups.SIZE / 2; s > 0; s >>= 1) {
            if (t < s) {
                partial[t] = TornadoMath.max(partial[t], partial[t + s]);
            }
            k.localBarrier();
        }
        return partial[0];
    }
}
