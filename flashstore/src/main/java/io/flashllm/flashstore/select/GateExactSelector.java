package io.flashllm.flashstore.select;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
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
    private final Parallel parallel;

    /** {@code gates.get(l)} is layer l's gate matrix (rows = neurons); computed on the calling thread. */
    public GateExactSelector(List<WeightTensor> gates, FfnActivation activation) {
        this(gates, activation, null);
    }

    /** As above, the gate matrix-vector product spread over {@code parallel} (the caller's pool, may be null). */
    public GateExactSelector(List<WeightTensor> gates, FfnActivation activation, Parallel parallel) {
        this.parallel = parallel;
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
        MatVec.matvec(parallel, g, x, pre);
        int n = g.rows();
        for (int j = 0; j < n; j++) {
            if (activation.apply(pre[j]) != 0f) out.add(j);
        }
        out.markGateKnown();
    }

    @Override
    public boolean needsResidentGate() {
        return true;
    }
}
