package io.flashllm.flashstore.select;

import io.flashllm.flashstore.cache.RowKernels;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.WeightTensor;

import java.util.List;

/**
 * Exact selection for gated ReLU-family FFNs: the gate matrices stay in DRAM, the gate is computed
 * for every neuron, and only neurons whose activation is non-zero need their up row and down
 * column. A neuron with act(gate·x) = 0 contributes exactly zero, so nothing is lost.
 */
public final class GateExactSelector implements NeuronSelector {
    private final List<WeightTensor> gates;
    private final FfnActivation activation;

    /** {@code gates.get(l)} is layer l's gate matrix (rows = neurons). */
    public GateExactSelector(List<WeightTensor> gates, FfnActivation activation) {
        if (!activation.gated() || !activation.sparse()) {
            throw new IllegalArgumentException("gate-exact needs a gated ReLU-family activation (ReLU or FATReLU), not "
                    + activation.kind());
        }
        this.gates = List.copyOf(gates);
        this.activation = activation;
    }

    @Override
    public String name() {
        return "gate-exact";
    }

    @Override
    public void select(int layer, float[] x, Selection out) {
        WeightTensor g = gates.get(layer);
        float[] pre = out.gatePre();
        int n = g.rows();
        for (int j = 0; j < n; j++) {
            float v = RowKernels.dot(g, j, x, 0);
            pre[j] = v;
            if (activation.apply(v) != 0f) out.add(j);
        }
        out.markGateKnown();
    }

    @Override
    public boolean needsResidentGate() {
        return true;
    }
}
