package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.cache.LayerCounters;
import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.flashstore.cache.RowKernels;
import io.flashllm.flashstore.cache.RowMatrix;
import io.flashllm.flashstore.cache.RowShape;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.io.Coalescer;
import io.flashllm.flashstore.io.IoEngine;
import io.flashllm.flashstore.io.ReadBatch;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.kernels.WeightTensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The FFN computed from flash bundles: per token and layer, select the needed neurons, look them up
 * in the layer's {@link NeuronCache}, read the misses with the {@link IoEngine} (grouped, coalesced,
 * in parallel), then compute {@code sum_j act(gate_j·x)·(up_j·x)·down_j} over the cache rows
 * {@code 0..used} plus any neurons streamed through the stream buffer because the cache was full.
 *
 * <p>Every neuron a token needs is computed exactly once: it is either a cache row or a stream row.
 * Cached neurons that this token did not select are computed too; for an exact selector their
 * activation is zero (gate-exact skips them without a dot product).
 */
public final class BundleFeedForward implements FeedForward {
    private final FfnActivation activation;
    private final NeuronSelector selector;
    private final IoEngine io;
    private final boolean ownsIo;
    private final BundleFfnOptions options;
    private final Arena arena = Arena.ofShared();
    private final Layer[] layers;
    private final RowMatrix stream;
    private final int[] streamIds;
    private final int dim;

    /** Per-layer state, allocated once. */
    private final class Layer {
        final int index;
        final FfnFile file;
        final BundleLayout layout;
        final NeuronCache cache;
        final LayerCounters counters = new LayerCounters();
        final Selection selection;
        final WeightTensor residentGate;
        final float[] upBias;
        final float[] downBias;
        final int[] miss;
        final int[] groups;
        final int[] runStart;
        final int[] runLength;
        final int[] dest;
        final ReadBatch batch;
        final long[] partOffset;
        boolean hotChosen;

        Layer(int index, FfnFile file, WeightTensor residentGate, float[] upBias, float[] downBias, List<RowShape> shapes,
              List<Part> cacheParts) {
            this.index = index;
            this.file = file;
            this.layout = file.layout();
            int n = layout.neurons();
            this.cache = new NeuronCache(n, options.cacheRowsPerLayer(), shapes, options.window(), arena, counters);
            this.selection = new Selection(n);
            this.residentGate = residentGate;
            this.upBias = upBias;
            this.downBias = downBias;
            this.miss = new int[n];
            this.groups = new int[layout.groupCount()];
            this.runStart = new int[layout.groupCount()];
            this.runLength = new int[layout.groupCount()];
            this.dest = new int[n];
            Arrays.fill(dest, -1);
            this.batch = new ReadBatch(layout.groupCount());
            this.partOffset = new long[cacheParts.size()];
            for (int p = 0; p < partOffset.length; p++) partOffset[p] = layout.partOffset(cacheParts.get(p));
            batch.handler(this::onRead);
        }

        /** Runs on an I/O thread: check each group read and copy the wanted neurons into their rows. */
        void onRead(int run, MemorySegment data, long nanos) {
            counters.read(data.byteSize(), nanos);
            int npg = layout.neuronsPerGroup();
            long gb = layout.groupBytes();
            RowMatrix cached = cache.rows();
            for (int k = 0; k < runLength[run]; k++) {
                int g = runStart[run] + k;
                long base = k * gb;
                if (options.verifyReads()) file.checkGroup(g, data, base);
                int last = Math.min(layout.neurons(), (g + 1) * npg);
                for (int j = g * npg; j < last; j++) {
                    int d = dest[j];
                    if (d == -1) continue;
                    RowMatrix target = d >= 0 ? cached : stream;
                    int row = d >= 0 ? d : -d - 2;
                    long nb = base + layout.offsetInGroup(j);
                    for (int p = 0; p < partOffset.length; p++) target.load(p, row, data, nb + partOffset[p]);
                }
            }
        }
    }

    /**
     * @param files          one FFN file per layer, all with the same layout shape
     * @param residentGates  layer gate matrices kept in DRAM, or null when the bundles carry them
     * @param upBiases       per-layer up bias (length = neurons), entries may be null
     * @param downBiases     per-layer down bias (length = dim), entries may be null
     * @param io             the engine to read with; closed with this FFN when {@code ownsIo}
     */
    public BundleFeedForward(List<FfnFile> files, List<WeightTensor> residentGates, List<float[]> upBiases,
                             List<float[]> downBiases, FfnActivation activation, NeuronSelector selector,
                             BundleFfnOptions options, IoEngine io, boolean ownsIo) {
        this.activation = activation;
        this.selector = selector;
        this.io = io;
        this.ownsIo = ownsIo;
        this.options = options;
        BundleLayout first = files.getFirst().layout();
        this.dim = first.spec(Part.DOWN).elements();
        boolean bundleGate = first.has(Part.GATE);
        if (activation.gated() && !bundleGate && residentGates == null) {
            throw new IllegalArgumentException("gated FFN without gates: the bundles lack them and none are resident");
        }
        if (selector.needsResidentGate() && residentGates == null) {
            throw new IllegalArgumentException("selector " + selector.name() + " needs the gate matrices in DRAM;"
                    + " convert with the gates resident");
        }
        // Gates go into the cache only when nobody computes them from DRAM.
        List<Part> cacheParts = new ArrayList<>();
        List<RowShape> shapes = new ArrayList<>();
        for (PartSpec p : first.parts()) {
            if (p.part() == Part.GATE && (residentGates != null || !activation.gated())) continue;
            cacheParts.add(p.part());
            shapes.add(new RowShape(p.part().name().toLowerCase(), p.type(), p.elements()));
        }
        this.stream = new RowMatrix(shapes, options.streamRows(), arena);
        this.streamIds = new int[options.streamRows()];
        this.layers = new Layer[files.size()];
        for (int l = 0; l < layers.length; l++) {
            FfnFile f = files.get(l);
            if (!f.layout().parts().equals(first.parts()) || f.layout().groupBytes() > io.maxReadBytes()) {
                throw new BundleException(f.path(), "layout differs from layer 0 or its groups exceed the I/O read size");
            }
            layers[l] = new Layer(l, f, residentGates == null ? null : residentGates.get(l),
                    upBiases == null ? null : upBiases.get(l), downBiases == null ? null : downBiases.get(l), shapes, cacheParts);
        }
        gateIndex = cacheParts.indexOf(Part.GATE);
        upIndex = cacheParts.indexOf(Part.UP);
        downIndex = cacheParts.indexOf(Part.DOWN);
    }

    private final int gateIndex;
    private final int upIndex;
    private final int downIndex;

    public int layers() {
        return layers.length;
    }

    public LayerCounters counters(int layer) {
        return layers[layer].counters;
    }

    public NeuronCache cache(int layer) {
        return layers[layer].cache;
    }

    public NeuronSelector selector() {
        return selector;
    }

    @Override
    public void forward(int layer, float[] x, float[] out) {
        Layer L = layers[layer];
        Selection sel = L.selection;
        sel.clear();
        selector.select(layer, x, sel);
        NeuronCache cache = L.cache;
        cache.beginToken();
        int[] ids = sel.neurons();
        int n = sel.count();
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (!cache.touch(ids[i])) L.miss[m++] = ids[i];
        }
        L.counters.lookups(n, n - m);
        Arrays.fill(out, 0, dim, 0f);
        if (m > 0) {
            int toCache = Math.min(m, cache.makeRoom(m));
            loadAndStream(L, m, toCache, x, out);
        }
        for (int r = 0; r < cache.used(); r++) accumulate(L, cache.rows(), r, cache.idAt(r), sel, x, out);
        if (L.downBias != null) for (int i = 0; i < dim; i++) out[i] += L.downBias[i];
        if (options.hotRowsPerLayer() > 0 && !L.hotChosen && cache.step() >= options.hotWarmupTokens()) chooseHot(L);
    }

    /**
     * Reads {@code miss[0..m)}: the first {@code toCache} into fresh cache rows, the rest through the
     * stream buffer in rounds, each round's stream rows computed into {@code out} right away.
     */
    private void loadAndStream(Layer L, int m, int toCache, float[] x, float[] out) {
        int i = 0;
        while (i < m) {
            int end = Math.min(m, Math.max(i, toCache) + stream.capacity());
            int streamed = 0;
            try {
                for (int k = i; k < end; k++) {
                    int neuron = L.miss[k];
                    if (k < toCache) {
                        L.dest[neuron] = L.cache.reserve(neuron);
                    } else {
                        streamIds[streamed] = neuron;
                        L.dest[neuron] = -(streamed + 2);
                        streamed++;
                    }
                }
                readNeurons(L, i, end);
            } catch (RuntimeException e) {
                for (int k = i; k < Math.min(end, toCache); k++) L.cache.evict(L.miss[k]);
                throw e;
            } finally {
                for (int k = i; k < end; k++) L.dest[L.miss[k]] = -1;
            }
            L.counters.loaded(end - i);
            for (int r = 0; r < streamed; r++) accumulate(L, stream, r, streamIds[r], L.selection, x, out);
            i = end;
        }
    }

    /** Reads the groups holding {@code miss[from..to)} (ascending), coalesced, and waits. */
    private void readNeurons(Layer L, int from, int to) {
        int npg = L.layout.neuronsPerGroup();
        int g = 0;
        int lastGroup = -1;
        for (int k = from; k < to; k++) {
            int grp = L.miss[k] / npg;
            if (grp != lastGroup) {
                L.groups[g++] = grp;
                lastGroup = grp;
            }
        }
        long gb = L.layout.groupBytes();
        int maxRun = (int) Math.max(1, io.maxReadBytes() / gb);
        int runs = Coalescer.coalesce(L.groups, g, options.coalesceGapGroups(), maxRun, L.runStart, L.runLength);
        ReadBatch batch = L.batch;
        batch.clear();
        for (int r = 0; r < runs; r++) {
            batch.add(L.file.blockFile(), L.file.groupOffset(L.runStart[r]), (int) (L.runLength[r] * gb));
        }
        io.execute(batch);
    }

    private void accumulate(Layer L, RowMatrix rows, int r, int id, Selection sel, float[] x, float[] out) {
        float a;
        float ub = L.upBias != null ? L.upBias[id] : 0f;
        if (activation.gated()) {
            float gate;
            if (sel.gateKnown()) gate = sel.gatePre()[id];
            else if (gateIndex >= 0) gate = RowKernels.dot(rows.part(gateIndex), r, x, 0);
            else gate = RowKernels.dot(L.residentGate, id, x, 0);
            float g = activation.apply(gate);
            if (g == 0f) return;
            a = g * (RowKernels.dot(rows.part(upIndex), r, x, 0) + ub);
        } else {
            a = activation.apply(RowKernels.dot(rows.part(upIndex), r, x, 0) + ub);
            if (a == 0f) return;
        }
        RowKernels.axpy(rows.part(downIndex), r, a, out, 0);
    }

    /** Pins the most frequently requested cached neurons into the hot region, once, after warm-up. */
    private void chooseHot(Layer L) {
        L.hotChosen = true;
        NeuronCache c = L.cache;
        Integer[] order = new Integer[c.used()];
        for (int r = 0; r < order.length; r++) order[r] = c.idAt(r);
        Arrays.sort(order, (a, b) -> Integer.compare(c.activationCount(b), c.activationCount(a)));
        int h = Math.min(options.hotRowsPerLayer(), order.length);
        int[] top = new int[h];
        for (int i = 0; i < h; i++) top[i] = order[i];
        c.pin(top, h);
    }

    /**
     * Loads {@code neurons} (ascending, e.g. from calibration statistics) into layer {@code layer}'s
     * cache and pins them in the hot region. Returns how many were pinned.
     */
    public int pinHot(int layer, int[] neurons) {
        Layer L = layers[layer];
        int h = Math.min(neurons.length, options.hotRowsPerLayer() - L.cache.hotCount());
        int m = 0;
        for (int i = 0; i < h; i++) if (L.cache.rowOf(neurons[i]) < 0) L.miss[m++] = neurons[i];
        int free = L.cache.makeRoom(m);
        m = Math.min(m, free);
        if (m > 0) {
            try {
                for (int k = 0; k < m; k++) L.dest[L.miss[k]] = L.cache.reserve(L.miss[k]);
                readNeurons(L, 0, m);
            } catch (RuntimeException e) {
                for (int k = 0; k < m; k++) L.cache.evict(L.miss[k]);
                throw e;
            } finally {
                for (int k = 0; k < m; k++) L.dest[L.miss[k]] = -1;
            }
            L.counters.loaded(m);
        }
        L.hotChosen = true;
        return L.cache.pin(neurons, h);
    }

    @Override
    public void close() {
        for (Layer L : layers) {
            try {
                L.file.close();
            } catch (IOException e) {
                // Closing a read-only file loses nothing; keep closing the rest.
            }
        }
        if (ownsIo) io.close();
        arena.close();
    }
}
