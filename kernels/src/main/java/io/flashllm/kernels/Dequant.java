package io.flashllm.kernels;

import io.flashllm.kernels.cpu.RowKernel;

/** Dequantization of whole rows into float arrays, for any supported type. */
public final class Dequant {
    private Dequant() {}

    /** Writes the {@code w.cols()} values of row {@code row} of {@code w} to {@code out[off ..]}. */
    public static void row(WeightTensor w, int row, float[] out, int off) {
        Checks.row(w, row);
        Checks.span("out", out, off, w.cols());
        RowKernel.forType(w.type()).dequant(w.data(), row * w.rowBytes(), w.cols(), out, off);
    }

    /** A fresh array with row {@code row} of {@code w}; for set-up code, not for hot paths. */
    public static float[] row(WeightTensor w, int row) {
        float[] out = new float[w.cols()];
        row(w, row, out, 0);
        return out;
    }

    /** Every element of {@code w}, row after row; for set-up code and tests. */
    public static float[] all(WeightTensor w) {
        int rows = w.rows(), cols = w.cols();
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) row(w, r, out, r * cols);
        return out;
    }
}
