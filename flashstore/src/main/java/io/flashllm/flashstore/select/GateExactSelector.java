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

    /**
     * Row ranges of the gate a batch's product runs in: each range's values for the whole batch land in
     * the caller's per-row gate arrays, so the batch's own scratch is one range's worth (1,024 neurons x 64
     * rows, 256 KiB). A whole layer at once (8,192 x 64 values, 2 MiB, and 1.5 MiB more of the product's
     * scratch) pushed the capped run's 48 MiB heap into collecting without end (docs/benchmarks.md §4,
     * session 35); 16-row slices of the batch with their own copies (640 KiB) still tipped it now and then.
     */
    static final int BATCH_RANGES = 8;
    private WeightTensor[][] batchGates = new WeightTensor[0][];
    private float[] rangeOut = new float[0];

    /** The gate times the whole batch, range of neurons by range, then each row's firing neurons from its values. */
    @Override
    public void selectBatch(int layer, float[] x, int batch, float[] row, float[][] gateRows, Selection out,
                            RowSelected each) {
        WeightTensor[] views = batchViews(layer);
        int n = gates.get(layer).rows();
        for (int c = 0; c < views.length; c++) {
            int from = ChunkedSelector.chunkStart(n, c, views.length);
            int rows = views[c].rows();
            if (rows == 0) continue;
            if (rangeOut.length < batch * rows) rangeOut = new float[batch * rows];
            MatVec.matmul(parallel, views[c], x, batch, rangeOut);
            for (int b = 0; b < batch; b++) System.arraycopy(rangeOut, b * rows, gateRows[b], from, rows);
        }
        for (int b = 0; b < batch; b++) {
            out.clear();
            float[] pre = out.gatePre();
            System.arraycopy(gateRows[b], 0, pre, 0, n);
            addFiring(pre, 0, n, out);
            out.markGateKnown();
            each.accept(b, out);
        }
    }

    private WeightTensor[] batchViews(int layer) {
        if (batchGates.length != gates.size()) batchGates = new WeightTensor[gates.size()][];
        if (batchGates[layer] == null) batchGates[layer] = rangeViews(gates.get(layer), BATCH_RANGES);
        return batchGates[layer];
    }

    /** {@code ranges} views of consecutive rows of {@code g}, split as {@link ChunkedSelector#chunkStart} splits them. */
    private static WeightTensor[] rangeViews(WeightTensor g, int ranges) {
        int n = g.rows();
        long rb = g.rowBytes();
        WeightTensor[] v = new WeightTensor[ranges];
        for (int c = 0; c < ranges; c++) {
            int from = ChunkedSelector.chunkStart(n, c, ranges), to = ChunkedSelector.chunkStart(n, c + 1, ranges);
            v[c] = new WeightTensor(g.name() + "[" + from + ":" + to + "]", g.type(), new long[]{g.cols(), to - from},
                    g.data().asSlice(from * rb, (to - from) * rb));
        }
        return v;
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
        v = rangeViews(gates.get(layer), chunks);
        for (WeightTensor range : v) if (chunkPre.length < range.rows()) chunkPre = new float[range.rows()];
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
