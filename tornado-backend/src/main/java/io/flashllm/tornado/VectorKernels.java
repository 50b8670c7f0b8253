package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * Element-wise steps between the products that are not fused into them (MatVecKernels adds biases
 * and residuals and applies the gate): OPT's ReLU and the neuron cache's activations.
 */
public final class VectorKernels {
    /** Activation codes {@link #activation} takes (FfnActivation.Kind of the gated kinds). */
    public static final int SILU = 0;
    public static final int RELU = 1;
    public static final int FATRELU = 2;

    private VectorKernels() {}

    /** OPT's ungated FFN: {@code x[i] = max(x[i], 0)} (its bias was added before). */
    public static void relu(FloatArray x, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            x.set(i, TornadoMath.max(x.get(i), 0f));
        }
    }

    /** SiLU (kind 0), ReLU (1) or FATReLU (2: zero at or below {@code threshold}); TornadoVM inlines it into each kernel. */
    static float activation(float g, int kind, float threshold) {
        float a = 0f;
        if (kind == 0) {
            a = g / (1f + TornadoMath.exp(-g));
        } else if (kind == 1) {
            if (g > 0f) {
                a = g;
            }
        } else if (g > threshold) {
            a = g;
        }
        return a;
    }

    /**
     * The gate of a gated FFN over gate and up products already made: {@code h[i] = act(gate[i]) *
     * (up[i] + bias[i])} for the first {@code n} neurons.
     */
    public static void gatedBias(FloatArray gate, FloatArray up, FloatArray bias, FloatArray h, int n, int kind,
                                 float threshold) {
        for (@Parallel int i = 0; i < n; i++) {
            h.set(i, activation(gate.get(i), kind, threshold) * (up.get(i) + bias.get(i)));
        }
    }

    /** The gate applied on the host: {@code h[i] = coef[i] * (up[i] + bias[i])}. */
    public static void scaledBias(FloatArray coef, FloatArray up, FloatArray bias, FloatArray h, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            h.set(i, coef.get(i) * (up.get(i) + bias.get(i)));
        }
    }
}
