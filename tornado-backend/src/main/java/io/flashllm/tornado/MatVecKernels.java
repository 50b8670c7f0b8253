package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.Int8Array;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * Matrix-vector products with the weights in their file encoding on the device, dequantized as they
 * are read. One work group per output ({@link WorkGroups}): its items take every
 * {@link WorkGroups#SIZE}-th element of a row, so neighbouring items read neighbouring weights
 * (coalesced), and {@link GroupReductions#sum} adds their partial sums.
 *
 * <p>Each product also does the element-wise steps around it, since on a GPU a task costs more to
 * launch than a decode step's rows take to compute. With {@code normalize} 1 it applies RMSNorm to
 * {@code x} first: every group sums {@code x^2} itself (a few thousand floats, from cache) and
 * reads {@code x[c] * nw[c]}, scaling its dot product by the inverse RMS; without, {@code nw} is ones.
 * {@code linear} adds a bias and, with {@code accumulate} 1, the result to {@code out} (the
 * residual add); {@code gated} reads a gate row and an up row (rows {@code 2r} and {@code 2r+1},
 * interleaved at load) and writes {@code act(gate) * (up + upBias)}.
 *
 * <p>Rows are {@code cols} wide; Q8_0 rows are {@code cols / 32} blocks, each a half scale and 32
 * signed bytes, kept as two arrays so every element is a plain typed load. Halfs travel as their bit
 * patterns ({@link ShortArray}) and are decoded by {@link Halfs#decode} with its table {@code h}.
 */
public final class MatVecKernels {
    /** Elements per Q8_0 block (ggml's QK8_0). */
    public static final int Q8_BLOCK = 32;

    private MatVecKernels() {}

    public static void f32(KernelContext k, FloatArray w, FloatArray x, FloatArray nw, float eps, int normalize,
                           FloatArray bias, FloatArray out, int cols, int accumulate) {
        int r = k.groupIdx;
        float inv = inverseRms(k, x, cols, eps, normalize);
        float total = GroupReductions.sum(k, partF32(k, w, x, nw, r * cols, cols));
        store(k, out, r, total * inv + bias.get(r), accumulate);
    }

    public static void f16(KernelContext k, ShortArray w, FloatArray h, FloatArray x, FloatArray nw, float eps,
                           int normalize, FloatArray bias, FloatArray out, int cols, int accumulate) {
        int r = k.groupIdx;
        float inv = inverseRms(k, x, cols, eps, normalize);
        float total = GroupReductions.sum(k, partF16(k, w, h, x, nw, r * cols, cols));
        store(k, out, r, total * inv + bias.get(r), accumulate);
    }

    public static void q8(KernelContext k, Int8Array quants, ShortArray scales, FloatArray h, FloatArray x,
                          FloatArray nw, float eps, int normalize, FloatArray bias, FloatArray out, int cols,
                          int accumulate) {
        int r = k.groupIdx;
        float inv = inverseRms(k, x, cols, eps, normalize);
        float total = GroupReductions.sum(k, partQ8(k, quants, scales, h, x, nw, r * cols, cols));
        store(k, out, r, total * inv + bias.get(r), accumulate);
    }

    public static void f32Gated(KernelContext k, FloatArray w, FloatArray x, FloatArray nw, float eps, int normalize,
                                FloatArray upBias, FloatArray out, int cols, int kind, float threshold) {
        int r = k.groupIdx;
        float inv = inverseRms(k, x, cols, eps, normalize);
        float gate = GroupReductions.sum(k, partF32(k, w, x, nw, 2 * r * cols, cols)) * inv;
        float up = GroupReductions.sum(k, partF32(k, w, x, nw, (2 * r + 1) * cols, cols)) * inv;
        if (k.localIdx == 0) {
            out.set(r, VectorKernels.activation(gate, kind, threshold) * (up + upBias.get(r)));
        }
    }

    public static void f16Gated(KernelContext k, ShortArray w, FloatArray h, FloatArray x, FloatArray nw, float eps,
                                int normalize, FloatArray upBias, FloatArray out, int cols, int kind,
                                float threshold) {
        int r = k.groupIdx;
        float inv = inverseRms(k, x, cols, eps, normalize);
        float gate = GroupReductions.sum(k, partF16(k, w, h, x, nw, 2 * r * cols, cols)) * inv;
        float up = GroupReductions.sum(k, partF16(k, w, h, x, nw, (2 * r + 1) * cols, cols)) * inv;
        if (k.localIdx == 0) {
            out.set(r, VectorKernels.activation(gate, kind, threshold) * (up + upBias.get(r)));
        }
    }

    public static void q8Gated(KernelContext k, Int8Array quants, ShortArray scales, FloatArray h, FloatArray x,
                               FloatArray nw, float eps, int normalize, FloatArray upBias, FloatArray out, int cols,
                               int kind, float threshold) {
        int r = k.groupIdx;
        float inv = inverseRms(k, x, cols, eps, normalize);
        float gate = GroupReductions.sum(k, partQ8(k, quants, scales, h, x, nw, 2 * r * cols, cols)) * inv;
        float up = GroupReductions.sum(k, partQ8(k, quants, scales, h, x, nw, (2 * r + 1) * cols, cols)) * inv;
        if (k.localIdx == 0) {
            out.set(r, VectorKernels.activation(gate, kind, threshold) * (up + upBias.get(r)));
        }
    }

    /** {@code 1 / sqrt(mean(x^2) + eps)} over the group when {@code normalize} is 1, else 1. */
    static float inverseRms(KernelContext k, FloatArray x, int n, float eps, int normalize) {
        float inv = 1f;
        if (normalize == 1) {
            inv = NormKernels.inverseRms(k, x, n, eps);
        }
        return inv;
    }

    /** This item's share of {@code row . (x * nw)} for the row starting at element {@code base}. */
    static float partF32(KernelContext k, FloatArray w, FloatArray x, FloatArray nw, int base, int cols) {
        float sum = 0f;
        for (int c = k.localIdx; c < cols; c += WorkGroups.SIZE) {
            sum += w.get(base + c) * x.get(c) * nw.get(c);
        }
        return sum;
    }

    static float partF16(KernelContext k, ShortArray w, FloatArray h, FloatArray x, FloatArray nw, int base,
                         int cols) {
        float sum = 0f;
        for (int c = k.localIdx; c < cols; c += WorkGroups.SIZE) {
            sum += Halfs.decode(w.get(base + c), h) * x.get(c) * nw.get(c);
        }
        return sum;
    }

    static float partQ8(KernelContext k, Int8Array quants, ShortArray scales, FloatArray h, FloatArray x,
                        FloatArray nw, int base, int cols) {
        float sum = 0f;
        // A warp's 32 items read one block: its scale is one broadcast load.
        for (int c = k.localIdx; c < cols; c += WorkGroups.SIZE) {
            int e = base + c;
            sum += quants.get(e) * Halfs.decode(scales.get(e / Q8_BLOCK), h) * x.get(c) * nw.get(c);
        }
        return sum;
    }

    /** Item 0 writes {@code value}, added to what {@code out} holds when accumulating. */
    static void store(KernelContext k, FloatArray out, int r, float value, int accumulate) {
        if (k.localIdx == 0) {
            float v = value;
            if (accumulate == 1) {
                v = v + out.get(r);
            }
            out.set(r, v);
        }
    }
}
