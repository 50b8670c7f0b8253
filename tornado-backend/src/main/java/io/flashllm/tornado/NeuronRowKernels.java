package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.Int8Array;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

/**
 * The sparse FFN over a device copy of a neuron cache: rows {@code 0..used[0]} of preallocated
 * matrices of {@code capacity} rows hold the gate row, up row and down column of one cached neuron
 * each (the paper's row-column bundle). The grid covers the capacity; {@code used} changes every
 * token, so it is read from a device array and work groups past it write zeros.
 *
 * <p>Halfs are bit patterns decoded with the table {@code hf} ({@link Halfs}).
 *
 * <p>Also the scatter that brings new rows in: the host stages only rows whose neuron changed, with
 * their destination row numbers, and these kernels copy them into place on the device.
 */
public final class NeuronRowKernels {
    private NeuronRowKernels() {}

    /**
     * {@code out[r] = W[r] . x} for cached rows, 0 for the free rest (F16 rows): one work group per
     * row, as {@link MatVecKernels} ({@code ones} in place of norm weights: {@code x} comes
     * normalized). {@code used} is the same for the whole group, so its items all reach the
     * reduction's barriers or none do.
     */
    public static void rowsF16(KernelContext k, ShortArray w, FloatArray hf, FloatArray x, FloatArray ones,
                               FloatArray out, IntArray used, int cols) {
        int r = k.groupIdx;
        if (r < used.get(0)) {
            float total = GroupReductions.sum(k, MatVecKernels.partF16(k, w, hf, x, ones, r * cols, cols));
            if (k.localIdx == 0) {
                out.set(r, total);
            }
        } else if (k.localIdx == 0) {
            out.set(r, 0f);
        }
    }

    /** As {@link #rowsF16} for Q8_0 rows (quants and per-block scales, see {@link MatVecKernels}). */
    public static void rowsQ8(KernelContext k, Int8Array quants, ShortArray scales, FloatArray hf, FloatArray x,
                              FloatArray ones, FloatArray out, IntArray used, int cols) {
        int r = k.groupIdx;
        if (r < used.get(0)) {
            float total = GroupReductions.sum(k, MatVecKernels.partQ8(k, quants, scales, hf, x, ones, r * cols, cols));
            if (k.localIdx == 0) {
                out.set(r, total);
            }
        } else if (k.localIdx == 0) {
            out.set(r, 0f);
        }
    }

    /** {@code out[d] = sum over cached rows r of h[r] * D[r][d]}: the down projection over down columns (F16). */
    public static void downF16(ShortArray columns, FloatArray hf, FloatArray h, FloatArray out, IntArray used,
                               int dim) {
        for (@Parallel int d = 0; d < dim; d++) {
            float sum = 0f;
            int n = used.get(0);
            for (int r = 0; r < n; r++) {
                sum += h.get(r) * Halfs.decode(columns.get(r * dim + d), hf);
            }
            out.set(d, sum);
        }
    }

    /** As {@link #downF16} for Q8_0 columns: element {@code r*dim + d} is in block {@code (r*dim + d) / 32}. */
    public static void downQ8(Int8Array quants, ShortArray scales, FloatArray hf, FloatArray h, FloatArray out,
                              IntArray used, int dim) {
        for (@Parallel int d = 0; d < dim; d++) {
            float sum = 0f;
            int n = used.get(0);
            for (int r = 0; r < n; r++) {
                int e = r * dim + d;
                sum += h.get(r) * quants.get(e) * Halfs.decode(scales.get(e / 32), hf);
            }
            out.set(d, sum);
        }
    }

    /**
     * Copies staged rows ({@code count[0]} of them, {@code width} halfs each) to rows {@code dest[i]};
     * {@code total} is the staging area's length (its rows times width).
     */
    public static void scatterHalfs(ShortArray staged, IntArray dest, IntArray count, ShortArray rows,
                                    int width, int total) {
        for (@Parallel int e = 0; e < total; e++) {
            int i = e / width;
            if (i < count.get(0)) {
                int j = e - i * width;
                rows.set(dest.get(i) * width + j, staged.get(e));
            }
        }
    }

    /** As {@link #scatterHalfs} for signed bytes (Q8_0 quants). */
    public static void scatterBytes(Int8Array staged, IntArray dest, IntArray count, Int8Array rows, int width,
                                    int total) {
        for (@Parallel int e = 0; e < total; e++) {
            int i = e / width;
            if (i < count.get(0)) {
                int j = e - i * width;
                rows.set(dest.get(i) * width + j, staged.get(e));
            }
        }
    }
}
