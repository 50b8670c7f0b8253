package io.flashllm.flashstore.ffn;

import io.flashllm.kernels.WeightTensor;

/**
 * One layer's FFN weights in DRAM (mapped). {@code gate} is null for OPT's ungated FFN; biases are
 * null when the model has none (a gate bias only gpt-oss's experts have). Shapes in ggml order: gate and
 * up {@code [dim, ffn]}, down {@code [ffn, dim]}.
 */
public record DenseFfnLayer(WeightTensor gate, WeightTensor up, WeightTensor upBias,
                            WeightTensor down, WeightTensor downBias, WeightTensor gateBias) {

    /** A layer whose gate has no bias. */
    public DenseFfnLayer(WeightTensor gate, WeightTensor up, WeightTensor upBias, WeightTensor down, WeightTensor downBias) {
        this(gate, up, upBias, down, downBias, null);
    }

    public DenseFfnLayer {
        if (up == null || down == null) throw new IllegalArgumentException("an FFN needs up and down weights");
        int ffn = up.rows();
        int dim = up.cols();
        check(gate == null || (gate.rows() == ffn && gate.cols() == dim), gate, ffn, dim);
        check(down.rows() == dim && down.cols() == ffn, down, dim, ffn);
        check(upBias == null || upBias.elements() == ffn, upBias, 1, ffn);
        check(gateBias == null || (gate != null && gateBias.elements() == ffn), gateBias, 1, ffn);
        check(downBias == null || downBias.elements() == dim, downBias, 1, dim);
    }

    private static void check(boolean ok, WeightTensor t, int rows, int cols) {
        if (!ok) {
            throw new IllegalArgumentException("FFN tensor " + t.name() + " has " + t.rows() + " rows of "
                    + t.cols() + ", expected " + rows + " of " + cols);
        }
    }

    public int dim() {
        return up.cols();
    }

    public int neurons() {
        return up.rows();
    }
}
