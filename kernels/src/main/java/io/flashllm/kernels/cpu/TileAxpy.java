package io.flashllm.kernels.cpu;

import jdk.incubator.vector.FloatVector;

import static io.flashllm.kernels.cpu.Simd.F;
import static io.flashllm.kernels.cpu.Simd.L;

/**
 * Decoded weight rows (hot in L1) added into several output rows at once, the transpose of
 * {@link TileDot}: a prompt batch's down projection over the neuron cache, where each cached neuron
 * is a row of the down matrix's transpose. Four rows per pass, so each output vector is loaded
 * and stored once for four FMAs, and two output rows per pass, so each weight vector loaded feeds two.
 */
public final class TileAxpy {
    private TileAxpy() {}

    /**
     * {@code out[o + j] += a0*w[j] + a1*w[w1 + j] + a2*w[2*w1 + j] + a3*w[3*w1 + j]} and the same for
     * {@code out[p + j]} with {@code b0..b3}, for j in [0, n): four decoded rows of stride {@code w1}
     * into two output rows.
     */
    public static void axpy4x2(float[] w, int w1, int n, float a0, float a1, float a2, float a3, float[] out, int o,
                               float b0, float b1, float b2, float b3, int p) {
        int w2 = 2 * w1, w3 = 3 * w1;
        FloatVector va0 = FloatVector.broadcast(F, a0), va1 = FloatVector.broadcast(F, a1);
        FloatVector va2 = FloatVector.broadcast(F, a2), va3 = FloatVector.broadcast(F, a3);
        FloatVector vb0 = FloatVector.broadcast(F, b0), vb1 = FloatVector.broadcast(F, b1);
        FloatVector vb2 = FloatVector.broadcast(F, b2), vb3 = FloatVector.broadcast(F, b3);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector u0 = FloatVector.fromArray(F, w, j), u1 = FloatVector.fromArray(F, w, w1 + j);
            FloatVector u2 = FloatVector.fromArray(F, w, w2 + j), u3 = FloatVector.fromArray(F, w, w3 + j);
            FloatVector x = FloatVector.fromArray(F, out, o + j);
            x = u0.fma(va0, x);
            x = u1.fma(va1, x);
            x = u2.fma(va2, x);
            x = u3.fma(va3, x);
            x.intoArray(out, o + j);
            FloatVector y = FloatVector.fromArray(F, out, p + j);
            y = u0.fma(vb0, y);
            y = u1.fma(vb1, y);
            y = u2.fma(vb2, y);
            y = u3.fma(vb3, y);
            y.intoArray(out, p + j);
        }
        for (; j < n; j++) {
            out[o + j] += a0 * w[j] + a1 * w[w1 + j] + a2 * w[w2 + j] + a3 * w[w3 + j];
            out[p + j] += b0 * w[j] + b1 * w[w1 + j] + b2 * w[w2 + j] + b3 * w[w3 + j];
        }
    }

    /** {@code out[o + j] += a0*w[j] + a1*w[w1 + j] + a2*w[2*w1 + j] + a3*w[3*w1 + j]} for j in [0, n). */
    public static void axpy4(float[] w, int w1, int n, float a0, float a1, float a2, float a3, float[] out, int o) {
        int w2 = 2 * w1, w3 = 3 * w1;
        FloatVector va0 = FloatVector.broadcast(F, a0), va1 = FloatVector.broadcast(F, a1);
        FloatVector va2 = FloatVector.broadcast(F, a2), va3 = FloatVector.broadcast(F, a3);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector x = FloatVector.fromArray(F, out, o + j);
            x = FloatVector.fromArray(F, w, j).fma(va0, x);
            x = FloatVector.fromArray(F, w, w1 + j).fma(va1, x);
            x = FloatVector.fromArray(F, w, w2 + j).fma(va2, x);
            x = FloatVector.fromArray(F, w, w3 + j).fma(va3, x);
            x.intoArray(out, o + j);
        }
        for (; j < n; j++) out[o + j] += a0 * w[j] + a1 * w[w1 + j] + a2 * w[w2 + j] + a3 * w[w3 + j];
    }

    /** {@code out[o + j] += a * w[wOff + j]} for j in [0, n). */
    public static void axpy(float[] w, int wOff, int n, float a, float[] out, int o) {
        FloatVector va = FloatVector.broadcast(F, a);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector.fromArray(F, w, wOff + j).fma(va, FloatVector.fromArray(F, out, o + j)).intoArray(out, o + j);
        }
        for (; j < n; j++) out[o + j] += a * w[wOff + j];
    }
}
