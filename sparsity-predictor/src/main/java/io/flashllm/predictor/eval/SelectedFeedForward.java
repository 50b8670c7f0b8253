package io.flashllm.predictor.eval;

import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.kernels.Dequant;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Ops;
import io.flashllm.kernels.Parallel;

import java.util.List;

/**
 * The FFN computed over only the neurons a selector picks, from weights in DRAM: what predicted
 * mode computes when no window keeps earlier tokens' neurons (window 1, every needed neuron read
 * for this token), so its accuracy is a lower bound for predicted mode with any window. Used to
 * measure perplexity and token agreement of predicted against dense on models that fit in memory.
 *
 * <p>Not thread-safe (one scratch space), like the dense FFN it stands in for.
 */
public final class SelectedFeedForward implements FeedForward {
    private final FfnActivation activation;
    private final List<DenseFfnLayer> layers;
    private final NeuronSelector selector;
    private final Parallel parallel;
    private final Selection[] selections;
    private final float[] gate;
    private final float[] up;
    private final float[] act;
    private final float[] bias;

    public SelectedFeedForward(FfnActivation activation, List<DenseFfnLayer> layers, NeuronSelector selector, Parallel parallel) {
        if (!activation.sparse()) throw new IllegalArgumentException("selecting neurons is exact only for ReLU-family activations");
        this.activation = activation;
        this.layers = List.copyOf(layers);
        this.selector = selector;
        this.parallel = parallel;
        int n = 0;
        for (DenseFfnLayer l : this.layers) n = Math.max(n, l.neurons());
        this.selections = new Selection[this.layers.size()];
        for (int l = 0; l < selections.length; l++) selections[l] = new Selection(this.layers.get(l).neurons());
        this.gate = new float[n];
        this.up = new float[n];
        this.act = new float[n];
        this.bias = new float[n];
    }

    /** The selection made for the last token at {@code layer}. */
    public Selection lastSelection(int layer) {
        return selections[layer];
    }

    @Override
    public void forward(int layer, float[] x, float[] out) {
        DenseFfnLayer l = layers.get(layer);
        Selection sel = selections[layer];
        sel.clear();
        selector.select(layer, x, sel);
        int n = l.neurons();
        int[] ids = sel.neurons();
        int count = sel.count();
        java.util.Arrays.fill(act, 0, n, 0f);
        MatVec.matvecRows(parallel, l.up(), ids, count, x, up);
        if (l.upBias() != null) Dequant.row(l.upBias(), 0, bias, 0);
        if (activation.gated()) {
            if (sel.gateKnown()) {
                for (int k = 0; k < count; k++) gate[k] = sel.gatePre()[ids[k]];
            } else {
                MatVec.matvecRows(parallel, l.gate(), ids, count, x, gate);
            }
            for (int k = 0; k < count; k++) {
                int j = ids[k];
                act[j] = activation.apply(gate[k]) * (up[k] + (l.upBias() != null ? bias[j] : 0f));
            }
        } else {
            for (int k = 0; k < count; k++) {
                int j = ids[k];
                act[j] = activation.apply(up[k] + (l.upBias() != null ? bias[j] : 0f));
            }
        }
        MatVec.matvec(parallel, l.down(), act, out);
        if (l.downBias() != null) Ops.addBias(out, 0, l.downBias());
    }
}
