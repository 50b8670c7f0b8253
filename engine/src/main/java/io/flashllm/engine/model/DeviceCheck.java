package io.flashllm.engine.model;

/**
 * The cross-check of a device's logits against the CPU's. The error is the largest absolute
 * difference relative to the largest CPU logit (at least 1): the two sides sum in different orders
 * and precisions (float on the device, mixed float/double on the CPU, an F16 KV cache by default on
 * the CPU), so logits agree to a few parts in a thousand, never exactly.
 */
public final class DeviceCheck {
    /** Largest relative error accepted; a wrong kernel is off by far more (tens of percent). */
    public static final float TOLERANCE = 1e-2f;

    private DeviceCheck() {}

    /** max |cpu - device| / max(1, max |cpu|) over the first {@code n} logits. */
    public static float relativeError(float[] cpu, float[] device, int n) {
        float scale = 1f;
        float worst = 0f;
        for (int i = 0; i < n; i++) {
            scale = Math.max(scale, Math.abs(cpu[i]));
            float d = Math.abs(cpu[i] - device[i]);
            // NaN on either side is a mismatch, not a zero difference.
            if (!(d <= worst)) worst = Float.isNaN(d) ? Float.POSITIVE_INFINITY : d;
        }
        return worst / scale;
    }
}
