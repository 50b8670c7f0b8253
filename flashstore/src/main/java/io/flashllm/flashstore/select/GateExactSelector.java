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
    /** Per layer l > 0, layer l's FFN norm weights over layer l-1's (null: no hints); see {@link #prefetchHint}. */
    private final float[][] normRatio;
    private final float[] guessInput;

    /** {@code gates.get(l)} is layer l's gate matrix (rows = neurons); computed on the calling thread. */
    public GateExactSelector(List<WeightTensor> gates, FfnActivation activation) {
        this(gates, activation, null);
    }

    /** As above, the gate matrix-vector product spread over {@code parallel} (the caller's pool, may be null). */
    public GateExactSelector(List<WeightTensor> gates, FfnActivation activation, Parallel parallel) {
        this(gates, activation, parallel, null);
    }

    /**
     * As above, with a guess at the next layer's firing neurons for reading ahead: {@code ffnNorms.get(l)}
     * is layer l's FFN norm weights (RMSNorm's gain vector), or the list is null for no guesses. The
     * gates must be in DRAM (not read from flash per layer), since the guess reads the next one.
     */
    public GateExactSelector(List<WeightTensor> gates, FfnActivation activation, Parallel parallel, List<float[]> ffnNorms) {
        this.parallel = parallel;
        if (ffnNorms != null && ffnNorms.size() != gates.size()) {
            throw new IllegalArgumentException(ffnNorms.size() + " FFN norms for " + gates.size() + " layers");
        }
        this.normRatio = ffnNorms == null ? null : ratios(ffnNorms);
        this.guessInput = ffnNorms == null || gates.isEmpty() ? null : new float[Math.toIntExact(gates.get(0).cols())];
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

    /**
     * Next layer's guessed gate values: its gate times this layer's FFN input, re-scaled from this
     * layer's norm weights to the next one's. The residual stream changes little from one layer to
     * the next, so on the benchmark model these values correlate 0.86 with the true ones
     * (docs/benchmarks.md §4, session 11). Adds the neurons the guess says fire, with the guessed
     * values in {@code out.gatePre()} for ranking; nothing here is ever used as a result.
     */
    @Override
    public boolean prefetchHint(int nextLayer, float[] x, Selection out) {
        if (normRatio == null || nextLayer <= 0 || nextLayer >= gates.size()) return false;
        float[] ratio = normRatio[nextLayer];
        float[] in = guessInput;
        for (int i = 0; i < in.length; i++) in[i] = x[i] * ratio[i];
        WeightTensor g = gates.get(nextLayer);
        float[] pre = out.gatePre();
        MatVec.matvec(parallel, g, in, pre);
        addFiring(pre, 0, g.rows(), out);
        out.markGateKnown();
        return true;
    }

    @Override
    public boolean guessesGateValues() {
        return normRatio != null;
    }

    /** Element-wise w[l] / w[l-1]; a zero weight in layer l-1 gives 0 (its input says nothing of layer l's). */
    private static float[][] ratios(List<float[]> norms) {
        float[][] r = new float[norms.size()][];
        for (int l = 1; l < norms.size(); l++) {
            float[] prev = norms.get(l - 1), cur = norms.get(l);
            if (prev.length != cur.length) throw new IllegalArgumentException("FFN norms of different sizes");
            r[l] = new float[cur.length];
            for (int i = 0; i < cur.length; i++) r[l][i] = prev[i] == 0f ? 0f : cur[i] / prev[i];
        }
        return r;
    }

    @Override
    public boolean knowsEveryGate() {
        return true;
    }

    @Override
    public boolean needsResidentGate() {
        return true;
    }
}
