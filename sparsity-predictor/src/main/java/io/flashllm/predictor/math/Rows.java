package io.flashllm.predictor.math;

import io.flashllm.kernels.Dequant;
import io.flashllm.kernels.WeightTensor;

/**
 * Dequantizes one row of a weight tensor into a float buffer. Training and the bulk mask
 * computation decode each row once and reuse it against many vectors; the kernels module's
 * vectorized decoders do the work for every type it supports.
 */
public final class Rows {
    private Rows() {}

    /** out[off..off+cols) = W[row]. */
    public static void dequantize(WeightTensor w, int row, float[] out, int off) {
        Dequant.row(w, row, out, off);
    }
}
