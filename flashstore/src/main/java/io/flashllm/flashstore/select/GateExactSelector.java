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
public final class GateExactSelector implements ChunkedSelector {
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
        addFiring(pre, 0, g.rows(), out);
        out.markGateKnown();
    }

    /** Adds neurons {@code first + j} whose activation of {@code pre[j]} is non-zero, j in [0, rows). */
    private void addFiring(float[] pre, int first, int rows, Selection out) {
        for (int j = 0; j < rows; j++) {
            if (activation.apply(pre[j]) != 0f) out.add(first + j);
        }
    }

    /** Row-range views of each layer's gate for the chunk count last asked for, built once. */
    private WeightTensor[][] chunkGates = new WeightTensor[0][];
    private float[] chunkPre = new float[0];

    @Override
    public void selectChunk(int layer, float[] x, int chunk, int chunks, Selection out) {
        WeightTensor[] views = chunkViews(layer, chunks);
        WeightTensor g = views[chunk];
        int from = ChunkedSelector.chunkStart(gates.get(layer).rows(), chunk, chunks);
        int rows = g.rows();
        // gatePre is valid for the ranges chosen so far; the FFN reads it only for those.
        out.markGateKnown();
        if (rows == 0) return; // more chunks than neurons
        MatVec.matvec(parallel, g, x, chunkPre);
        float[] pre = out.gatePre();
        System.arraycopy(chunkPre, 0, pre, from, rows);
        addFiring(chunkPre, from, rows, out);
    }

    private WeightTensor[] chunkViews(int layer, int chunks) {
        if (chunkGates.length != gates.size()) chunkGates = new WeightTensor[gates.size()][];
        WeightTensor[] v = chunkGates[layer];
        if (v != null && v.length == chunks) return v;
        WeightTensor g = gates.get(layer);
        int n = g.rows();
        long rb = g.rowBytes();
        v = new WeightTensor[chunks];
        for (int c = 0; c < chunks; c++) {
            int from = ChunkedSelector.chunkStart(n, c, chunks), to = ChunkedSelector.chunkStart(n, c + 1, chunks);
            v[c] = new WeightTensor(g.name() + "[" + from + ":" + to + "]", g.type(), new long[]{g.cols(), to - from},
                    g.data().asSlice(from * rb, (to - from) * rb));
            if (chunkPre.length < to - from) chunkPre = new float[to - from];
        }
        chunkGates[layer] = v;
        return v;
    }

    @Override
    public boolean needsResidentGate() {
        return true;
    }
}
