package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.cache.LayerCounters;
import io.flashllm.flashstore.cache.LongMinHeap;
import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.flashstore.cache.RowMatrix;
import io.flashllm.flashstore.cache.RowShape;
import io.flashllm.flashstore.ffn.BatchedFeedForward;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.io.Coalescer;
import io.flashllm.flashstore.io.IoEngine;
import io.flashllm.flashstore.io.ReadBatch;
import io.flashllm.flashstore.select.ChunkedSelector;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
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
 * <p>Calls are serialized ({@code forward} is synchronized): the caches hold one token stream's
 * window, so sessions sharing a model take turns, as they do for the KV-cache-free parts anyway.
 *
 * <p>Every neuron a token needs is computed exactly once: it is either a cache row or a stream row.
 * Cached neurons that this token did not select are computed too; for an exact selector their
 * activation is zero (gate-exact skips them without a dot product).
 *
 * <p>With a selector that chooses in ranges (gate-exact), a single token's layer is a pipeline:
 * the misses of each quarter of the neurons are read while the next quarter's gate rows are
 * computed, and the cached rows are computed while the last reads are in flight
 * ({@link BundleFfnOptions#selectChunks()}).
 */
public final class BundleFeedForward implements BatchedFeedForward {
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
        final Selection hint;
        /** {@link #chooseGuessed}'s heap of the likeliest guesses. */
        final long[] guessHeap;
        /** Batch union marking: neuron j is in the current batch's union when stamp[j] == epoch. */
        final int[] stamp;
        int epoch;
        /** The cache step at which the hot region was last chosen; -1 before the first choice. */
        long hotChosenAt = -1;
        /** Set by {@link #pinHot}: the caller chose the hot neurons, they are not re-chosen from counts. */
        boolean hotGiven;
        /** Neurons {@code miss[0..prefetched)} are being read ahead into reserved cache rows. */
        int prefetched;
        boolean prefetchPending;
        /** Chunked selection ({@link #forwardChunked}): one batch per round in flight, null when unused. */
        final ReadBatch[] roundBatch;
        /** Per round in flight: where its runs start in runStart/runLength, its misses, new rows and stream rows. */
        final int[] roundRunBase;
        final int[] roundMissEnd;
        final int[] roundNewEnd;
        final int[] roundStreamEnd;
        /** Cache rows given to neurons this token, in claim order; rowStamp[r] == rowMark marks them. */
        final int[] newRows;
        final int[] rowStamp;
        int rowMark;
        /**
         * Misses of the layer's last single token. Ranges pay off only while there is reading to
         * overlap: four smaller gate products cost ~0.15 ms more than one, so a layer whose last
         * token missed fewer than {@code chunkMinMisses} neurons (a sixteenth of the layer, at most
         * 64) chooses all at once.
         */
        int lastMisses = Integer.MAX_VALUE;
        final int chunkMinMisses;
        /**
         * This layer's wait on flash per token and the cost of a guess at it (the guess's gate product
         * and ranking, made during the layer before), nanoseconds, each averaged over recent tokens
         * (weight 1/8 for the newest); guessCost < 0 until a guess was made. See {@link #guessPays}.
         */
        long recentWait;
        long guessCost = -1;

        /** Folds one token's wait on flash into {@link #recentWait}. */
        void noteWait(long nanos) {
            recentWait += (nanos - recentWait) / 8;
        }

        Layer(int index, FfnFile file, WeightTensor residentGate, float[] upBias, float[] downBias, List<RowShape> shapes,
              List<Part> cacheParts) {
            this.index = index;
            this.file = file;
            this.layout = file.layout();
            int n = layout.neurons();
            this.cache = new NeuronCache(n, options.cacheRowsPerLayer(), shapes, options.window(), options.halfLife(), arena, counters);
            cache.keepPastWindow(options.windowFloor() && selector.knowsEveryGate());
            this.selection = new Selection(n);
            this.hint = new Selection(n);
            this.guessHeap = new long[Math.min(n, options.prefetchGuesses())];
            this.stamp = new int[n];
            this.residentGate = residentGate;
            this.upBias = upBias;
            this.downBias = downBias;
            this.miss = new int[n];
            this.groups = new int[layout.groupCount()];
            this.dest = new int[n];
            Arrays.fill(dest, -1);
            this.batch = new ReadBatch(layout.groupCount());
            this.partOffset = new long[cacheParts.size()];
            for (int p = 0; p < partOffset.length; p++) partOffset[p] = layout.partOffset(cacheParts.get(p));
            batch.handler(this::onRead);
            this.chunkMinMisses = Math.min(64, layout.neurons() / 16);
            int rounds = selectChunks;
            if (rounds > 1) {
                // Runs of all rounds between two flushes share runStart/runLength: at most every group once,
                // plus a group split between two neighbouring chunks.
                this.runStart = new int[layout.groupCount() + rounds + 1];
                this.runLength = new int[layout.groupCount() + rounds + 1];
                this.roundBatch = new ReadBatch[rounds];
                this.roundRunBase = new int[rounds];
                this.roundMissEnd = new int[rounds];
                this.roundNewEnd = new int[rounds];
                this.roundStreamEnd = new int[rounds];
                // A round reads groups of one chunk's neurons only.
                int perRound = 1;
                for (int c = 0; c < rounds; c++) {
                    int from = ChunkedSelector.chunkStart(n, c, rounds), to = ChunkedSelector.chunkStart(n, c + 1, rounds);
                    if (to > from) perRound = Math.max(perRound, (to - 1) / layout.neuronsPerGroup() - from / layout.neuronsPerGroup() + 1);
                }
                for (int r = 0; r < rounds; r++) {
                    ReadBatch b = new ReadBatch(perRound);
                    int round = r;
                    b.handler((run, data, nanos) -> onRead(roundRunBase[round] + run, data, nanos));
                    roundBatch[r] = b;
                }
                this.newRows = new int[cache.capacity()];
                this.rowStamp = new int[cache.capacity()];
            } else {
                this.runStart = new int[layout.groupCount()];
                this.runLength = new int[layout.groupCount()];
                this.roundBatch = null;
                this.roundRunBase = this.roundMissEnd = this.roundNewEnd = this.roundStreamEnd = null;
                this.newRows = this.rowStamp = null;
            }
        }

        /** Runs on an I/O thread: check each group read and copy the wanted neurons into their rows. */
        void onRead(int run, MemorySegment data, long nanos) {
            counters.read(data.byteSize(), nanos);
            int npg = layout.neuronsPerGroup();
            long gb = layout.groupBytes();
            long neuronBytes = layout.neuronBytes(); // a sum over the parts: once per run, not per neuron
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
                    long nb = base + (long) (j % npg) * neuronBytes;
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
        this(files, residentGates, upBiases, downBiases, activation, selector, options, io, ownsIo, null);
    }

    /**
     * As above, computing on {@code parallel}'s threads (null = the calling thread only). The pool
     * is the caller's and is not closed here.
     */
    public BundleFeedForward(List<FfnFile> files, List<WeightTensor> residentGates, List<float[]> upBiases,
                             List<float[]> downBiases, FfnActivation activation, NeuronSelector selector,
                             BundleFfnOptions options, IoEngine io, boolean ownsIo, Parallel parallel) {
        this.parallel = parallel;
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
        this.chunked = selector instanceof ChunkedSelector c ? c : null;
        this.selectChunks = chunked != null && options.cacheRowsPerLayer() > 0 ? options.selectChunks() : 1;
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
        int chunksMax = parallel == null ? 1 : parallel.threads();
        // Per-thread arrays padded by a cache line and more: written on every row by different
        // threads, the end of one must not share a line with the next one's header.
        this.partial = new float[chunksMax][dim + 32];
        int rowsMax = Math.max(options.cacheRowsPerLayer(), options.streamRows());
        this.firingRows = new int[chunksMax][rowsMax];
        this.firingAct = new float[chunksMax][rowsMax];
        this.firingUp = new float[chunksMax][rowsMax];
        this.firingProd = new float[chunksMax][rowsMax];
        gateIndex = cacheParts.indexOf(Part.GATE);
        upIndex = cacheParts.indexOf(Part.UP);
        downIndex = cacheParts.indexOf(Part.DOWN);
        this.pairType = gateIndex >= 0 && upIndex >= 0 && shapes.get(gateIndex).type() == shapes.get(upIndex).type()
                ? shapes.get(gateIndex).type() : null;
        this.pairPrep = new float[pairType == null ? 0 : MatVec.prepSize(pairType, dim)];
        this.pairOut = new float[chunksMax][32];
    }

    /**
     * The type of the cached gate and up rows when they are one type and both cached: then a neuron
     * whose gate is not known yet gets both products in one pass ({@link MatVec#dotPair}); else null.
     */
    private final GgmlType pairType;
    /** {@link MatVec#prepare} of the activations for {@link #pairType}'s pair products (empty when it needs none). */
    private final float[] pairPrep;
    /** Per compute chunk, one neuron's gate and up products (padded as {@link #partial}). */
    private final float[][] pairOut;

    private final Parallel parallel;
    /** Ranges the selector chooses neurons in, one at a time (1: the whole layer at once). */
    private final int selectChunks;
    /** The selector when it can choose in ranges, else null. */
    private final ChunkedSelector chunked;
    private boolean closed;
    private final float[][] partial;
    /** Per compute chunk: the firing rows of {@link #accumulateRange}, their activations, up biases and up products. */
    private final int[][] firingRows;
    private final float[][] firingAct;
    private final float[][] firingUp;
    private final float[][] firingProd;
    private final ComputeJob job = new ComputeJob();
    private final int gateIndex;
    private final int upIndex;
    private final int downIndex;

    public int layers() {
        return layers.length;
    }

    /** (Token, layer) steps that chose their neurons in ranges. */
    long chunkedSteps() {
        return chunkedSteps;
    }

    private long chunkedSteps;

    /** Neurons read ahead on the selector's guess at the next layer, all layers. */
    long guessedReads() {
        long n = 0;
        for (Layer L : layers) n += L.counters.readAhead();
        return n;
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

    /** The cache, stream and prefetch settings this FFN runs with. */
    public BundleFfnOptions options() {
        return options;
    }

    /** DRAM one cached neuron takes (all its cached parts). */
    public long cacheRowBytes() {
        return RowMatrix.bytesFor(stream.shapes(), 1);
    }

    /** What a neuron-cache row holds: one shape per cached part ("gate" unless the gates stay in DRAM, "up", "down"). */
    public List<RowShape> cacheRowShapes() {
        return stream.shapes();
    }

    /** DRAM of the stream buffer, allocated up front. */
    public long streamBufferBytes() {
        return RowMatrix.bytesFor(stream.shapes(), stream.capacity());
    }

    /** DRAM of the I/O engine's aligned read buffers, allocated up front. */
    public long ioBufferBytes() {
        return (long) io.threads() * io.maxReadBytes();
    }

    /** Where the cache rows of single-token steps are computed: null on the CPU. */
    private CachedRowsCompute rowsCompute;

    /**
     * Computes the cache rows of each single-token {@link #forward} with {@code c} (null: on the
     * CPU again). For gated activations only; an ungated FFN ignores it.
     */
    public synchronized void computeCachedRowsWith(CachedRowsCompute c) {
        this.rowsCompute = activation.gated() ? c : null;
    }

    /** Runs before a layer's gate matrix is used: a streamed gate is read in (see {@code GateStream}); null when resident. */
    private java.util.function.IntConsumer beforeLayer;

    /** {@code c} runs at the start of each layer's step, before its gate matrix is used (null: nothing). */
    synchronized void beforeEachLayer(java.util.function.IntConsumer c) {
        this.beforeLayer = c;
    }

    /** {@link #beforeLayer}, its time counted as waiting on flash (a streamed gate is a read the layer waits for). */
    private void beforeLayer(int layer) {
        if (beforeLayer == null) return;
        long t0 = System.nanoTime();
        beforeLayer.accept(layer);
        layers[layer].counters.phases(0, System.nanoTime() - t0, 0);
    }

    @Override
    public synchronized void forward(int layer, float[] x, float[] out) {
        beforeLayer(layer);
        Layer L = layers[layer];
        if (selectChunks > 1 && rowsCompute == null && L.lastMisses >= L.chunkMinMisses) {
            chunkedSteps++;
            forwardChunked(L, x, out);
            return;
        }
        long waited = finishPrefetch(L);
        long t0 = System.nanoTime();
        Selection sel = L.selection;
        sel.clear();
        selector.select(layer, x, sel);
        SelectionLog.record(layer, sel);
        long t1 = System.nanoTime();
        NeuronCache cache = L.cache;
        cache.beginToken();
        int[] ids = sel.neurons();
        int n = sel.count();
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (!cache.touch(ids[i])) L.miss[m++] = ids[i];
        }
        L.counters.lookups(n, n - m);
        L.lastMisses = m;
        Arrays.fill(out, 0, dim, 0f);
        waitNanos = 0;
        // Rows [0, old) are cached already; with misses they are computed while the misses are read.
        int old = 0;
        if (m > 0) {
            int toCache = Math.min(m, cache.makeRoom(m));
            old = cache.used();
            loadAndStream(L, m, toCache, old, x, out);
        }
        if (options.prefetch() && layer + 1 < layers.length) startPrefetch(layers[layer + 1], x);
        if (rowsCompute != null) {
            // Every cache row elsewhere (loadAndStream left the old rows to it too).
            rowsCompute.accumulate(layer, cache, gateOf(L), L.residentGate, L.upBias, x, out);
        } else {
            compute(L, cache.rows(), cache, null, old, cache.used(), x, out);
        }
        if (L.downBias != null) for (int i = 0; i < dim; i++) out[i] += L.downBias[i];
        long t2 = System.nanoTime();
        L.counters.phases(t1 - t0, waitNanos + waited, t2 - t1 - waitNanos);
        L.noteWait(waitNanos + waited);
        maybeChooseHot(L);
    }


    /*
     * One token through one layer with the neurons chosen one range at a time. Each range's misses
     * are read (one round) while the next range's gate rows are computed, so the flash queue fills a
     * quarter of a gate product after the layer starts instead of after all of it. Rows reserved
     * for reads in flight must not move, so a miss takes a free row or replaces in place a cached
     * neuron of a range already chosen that this token does not use (NeuronCache#claim); nothing
     * is compacted until the next token. When neither is left the miss goes through the stream
     * buffer; when that is full every round in flight is finished first.
     */
    private void forwardChunked(Layer L, float[] x, float[] out) {
        int n = L.layout.neurons();
        int K = selectChunks;
        Selection sel = L.selection;
        sel.clear();
        NeuronCache cache = L.cache;
        int mark = ++L.rowMark;
        Arrays.fill(out, 0, dim, 0f);
        waitNanos = 0;
        long selectNanos = 0;
        long start = System.nanoTime();
        int m = 0, lookedUp = 0, hits = 0;
        Rounds rs = this.rounds;
        rs.reset(L);
        try {
            for (int c = 0; c < K; c++) {
                long s0 = System.nanoTime();
                int before = sel.count();
                chunked.selectChunk(L.index, x, c, K, sel);
                if (parallel != null) parallel.runPending(); // the last range's reads, if the product did not take them
                selectNanos += System.nanoTime() - s0;
                if (c == 0) {
                    // A read-ahead into this layer had the first range's gate product to finish in;
                    // its rows must be filled before any row moves or is looked at.
                    waitNanos += finishPrefetch(L);
                    cache.beginToken();
                    cache.beginReplacing();
                }
                int[] ids = sel.neurons();
                int missStart = m;
                for (int i = before; i < sel.count(); i++) {
                    if (!cache.touch(ids[i])) L.miss[m++] = ids[i];
                }
                lookedUp += sel.count() - before;
                hits += sel.count() - before - (m - missStart);
                cache.offerVictims(ChunkedSelector.chunkStart(n, c, K), ChunkedSelector.chunkStart(n, c + 1, K));
                for (int k = missStart; k < m; k++) {
                    int neuron = L.miss[k];
                    int row = cache.claim(neuron);
                    if (row >= 0) {
                        L.dest[neuron] = row;
                        L.rowStamp[row] = mark;
                        L.newRows[rs.nNew++] = row;
                        continue;
                    }
                    if (rs.streamed == stream.capacity()) {
                        // Stream buffer full: read what is assigned, finish every round, start the buffer over.
                        rs.submit(k, x, out);
                        rs.finishAll(x, out);
                        rs.doneStream = rs.streamed = 0;
                    }
                    streamIds[rs.streamed] = neuron;
                    L.dest[neuron] = -(rs.streamed + 2);
                    rs.streamed++;
                }
                rs.submitDuringNextLoop(m, x, out);
            }
            L.counters.lookups(lookedUp, hits);
            SelectionLog.record(L.index, sel);
            if (options.prefetch() && L.index + 1 < layers.length) startPrefetch(layers[L.index + 1], x);
            // The rows cached before this token are computed while the last rounds are read.
            compute(L, cache.rows(), cache, null, null, L.rowStamp, mark, 0, cache.used(), x, out);
            if (parallel != null) parallel.runPending();
            rs.finishAll(x, out);
        } catch (RuntimeException e) {
            if (parallel != null) parallel.dropPending(); // a round not submitted: its misses are undone below
            for (int r = 0; r < rs.pending; r++) if (!L.roundBatch[r].isDone()) awaitQuietly(L.roundBatch[r]);
            for (int k = 0; k < m; k++) {
                L.dest[L.miss[k]] = -1;
                // A neuron given a row this token and not yet computed holds whatever its read left there: drop it.
                if (k >= rs.doneMiss && cache.rowOf(L.miss[k]) >= 0) cache.evict(L.miss[k]);
            }
            throw e;
        }
        L.counters.loaded(m);
        L.lastMisses = m;
        if (L.downBias != null) for (int i = 0; i < dim; i++) out[i] += L.downBias[i];
        long total = System.nanoTime() - start;
        L.counters.phases(selectNanos, waitNanos, total - selectNanos - waitNanos);
        L.noteWait(waitNanos);
        maybeChooseHot(L);
    }

    private final Rounds rounds = new Rounds();

    /**
     * The rounds of reads of {@link #forwardChunked} in flight for one layer: round r covers the
     * misses up to {@code missEnd[r]}, the new cache rows up to {@code newEnd[r]} and the stream rows
     * up to {@code streamEnd[r]}, each starting where the previous round ended (the first where the
     * last finished round ended: {@code doneMiss}, {@code doneNew}, {@code doneStream}).
     */
    private final class Rounds {
        Layer L;
        int pending;
        int runs;
        int nNew;
        int streamed;
        int doneMiss;
        int doneNew;
        int doneStream;
        /** Misses before this one are in a submitted round. */
        int submittedMiss;

        void reset(Layer layer) {
            L = layer;
            pending = runs = nNew = streamed = doneMiss = doneNew = doneStream = submittedMiss = 0;
        }

        private int laterEnd;
        private float[] laterX, laterOut;
        private final Runnable submitLater = () -> submit(laterEnd, laterX, laterOut);

        /**
         * {@link #submit}, made by this thread inside the pool's next loop (the next range's gate
         * product, or the cached rows' products) while the other threads start on that loop: the
         * io_submit calls cost 3-5 us a read here, ~0.2 ms for a range's reads, and overlap the
         * product instead of delaying it. The caller runs {@link Parallel#runPending} after that loop.
         */
        void submitDuringNextLoop(int missEnd, float[] x, float[] out) {
            // With no batch free, submit finishes the rounds first, computing on the pool: never inside a loop of it.
            if (parallel == null || missEnd == submittedMiss || pending == L.roundBatch.length) {
                submit(missEnd, x, out);
                return;
            }
            laterEnd = missEnd;
            laterX = x;
            laterOut = out;
            parallel.overlapNext(submitLater);
        }

        /** Submits the misses assigned since the last round, up to {@code missEnd}, finishing all rounds first when no batch is free. */
        void submit(int missEnd, float[] x, float[] out) {
            if (missEnd == submittedMiss) return;
            if (pending == L.roundBatch.length) finishAll(x, out);
            ReadBatch b = L.roundBatch[pending];
            int n = planReadsInto(L, submittedMiss, missEnd, b, runs);
            L.roundRunBase[pending] = runs;
            L.roundMissEnd[pending] = missEnd;
            L.roundNewEnd[pending] = nNew;
            L.roundStreamEnd[pending] = streamed;
            runs += n;
            submittedMiss = missEnd;
            pending++;
            io.submit(b);
        }

        /** Waits for every round in order, computing each one's new cache rows and stream rows as it completes. */
        void finishAll(float[] x, float[] out) {
            for (int r = 0; r < pending; r++) {
                long w = System.nanoTime();
                L.roundBatch[r].await();
                waitNanos += System.nanoTime() - w;
                int missTo = L.roundMissEnd[r], newTo = L.roundNewEnd[r], streamTo = L.roundStreamEnd[r];
                for (int k = doneMiss; k < missTo; k++) L.dest[L.miss[k]] = -1;
                compute(L, L.cache.rows(), L.cache, null, L.newRows, null, 0, doneNew, newTo, x, out);
                compute(L, stream, null, streamIds, null, null, 0, doneStream, streamTo, x, out);
                doneMiss = missTo;
                doneNew = newTo;
                doneStream = streamTo;
            }
            pending = 0;
            runs = 0;
        }
    }

    /**
     * Reads {@code miss[0..m)}: the first {@code toCache} into fresh cache rows, the rest through the
     * stream buffer in rounds, each round's stream rows computed into {@code out} right away.
     */
    private void loadAndStream(Layer L, int m, int toCache, int cachedRows, float[] x, float[] out) {
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
                planReads(L, i, end);
                io.submit(L.batch);
                // Overlap: the rows already cached are computed while the first round is read.
                if (i == 0 && rowsCompute == null) compute(L, L.cache.rows(), L.cache, null, 0, cachedRows, x, out);
                long w = System.nanoTime();
                L.batch.await();
                waitNanos += System.nanoTime() - w;
            } catch (RuntimeException e) {
                if (!L.batch.isDone()) awaitQuietly(L.batch);
                for (int k = i; k < Math.min(end, toCache); k++) L.cache.evict(L.miss[k]);
                throw e;
            } finally {
                for (int k = i; k < end; k++) L.dest[L.miss[k]] = -1;
            }
            L.counters.loaded(end - i);
            compute(L, stream, null, streamIds, 0, streamed, x, out);
            i = end;
        }
    }

    /** Lets in-flight reads finish before their target rows are released (they write into them). */
    private static void awaitQuietly(ReadBatch b) {
        try {
            b.await();
        } catch (RuntimeException ignored) {
            // the first failure is already being reported
        }
    }

    /** Nanoseconds the current token spent blocked on reads (for the per-layer phase counters). */
    private long waitNanos;

    /**
     * A batch of tokens (prompt processing): every token's neurons are selected, the union is read
     * once, then each token is computed over the cache rows; for windowing such a batch is one step.
     * When the union does not fit the cache it streams instead ({@link #streamBatch}).
     */
    @Override
    public synchronized void forwardBatch(int layer, float[] x, int batch, float[] out) {
        beforeLayer(layer);
        ensureBatch(batch);
        if (batch == 1) {
            System.arraycopy(x, 0, xTok, 0, dim);
            forward(layer, xTok, outTok);
            System.arraycopy(outTok, 0, out, 0, dim);
            return;
        }
        Layer L = layers[layer];
        int n = L.layout.neurons();
        long waited = finishPrefetch(L);
        long t0 = System.nanoTime();
        int mark = ++L.epoch;
        batchUnion = 0;
        batchGateKnown = false;
        selector.selectBatch(layer, x, batch, xTok, gateBatch, L.selection, (b, sel) -> {
            if (sel.gateKnown()) {
                System.arraycopy(sel.gatePre(), 0, gateBatch[b], 0, n);
                batchGateKnown = true;
            }
            int[] ids = sel.neurons();
            for (int i = 0; i < sel.count(); i++) {
                int id = ids[i];
                if (L.stamp[id] != mark) {
                    L.stamp[id] = mark;
                    batchUses[id] = 1;
                    batchUnion++;
                } else {
                    batchUses[id]++;
                }
            }
        });
        int union = batchUnion;
        boolean gateKnown = batchGateKnown;
        // The last token's input: what the read-ahead of the next layer guesses from, and the misses' stream uses.
        System.arraycopy(x, (batch - 1) * dim, xTok, 0, dim);
        NeuronCache cache = L.cache;
        if (union > cache.capacity() - cache.hotCount()) {
            long t1 = System.nanoTime();
            waitNanos = 0;
            streamBatch(L, mark, union, batch, gateKnown, x, out);
            L.counters.phases(t1 - t0, waitNanos + waited, System.nanoTime() - t1 - waitNanos);
            maybeChooseHot(L);
            return;
        }
        long t1 = System.nanoTime();
        cache.beginToken();
        int m = 0;
        for (int j = 0; j < n; j++) {
            if (L.stamp[j] == mark && !cache.touch(j)) L.miss[m++] = j;
        }
        L.counters.lookups(union, union - m);
        waitNanos = 0;
        if (m > 0) {
            // The union fits beside the hot region, so every miss gets a cache row and nothing streams.
            int toCache = Math.min(m, cache.makeRoom(m));
            loadAndStream(L, m, toCache, 0, xTok, outTok);
        }
        if (options.prefetch() && layer + 1 < layers.length) startPrefetch(layers[layer + 1], xTok);
        if (batchedRows(gateKnown)) {
            Arrays.fill(out, 0, batch * dim, 0f);
            computeRowsBatched(L, cache.rows(), cache, null, 0, cache.used(), x, batch, out);
            if (L.downBias != null) for (int b = 0; b < batch; b++) for (int i = 0; i < dim; i++) out[b * dim + i] += L.downBias[i];
        } else {
            try {
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(x, b * dim, xTok, 0, dim);
                    Arrays.fill(outTok, 0f);
                    batchGate = gateKnown ? gateBatch[b] : null;
                    compute(L, cache.rows(), cache, null, 0, cache.used(), xTok, outTok);
                    if (L.downBias != null) for (int i = 0; i < dim; i++) outTok[i] += L.downBias[i];
                    System.arraycopy(outTok, 0, out, b * dim, dim);
                }
            } finally {
                batchGate = null;
            }
        }
        L.counters.phases(t1 - t0, waitNanos + waited, System.nanoTime() - t1 - waitNanos);
        maybeChooseHot(L);
    }

    /**
     * A batch whose union of neurons does not fit the cache (a long prompt under a small budget).
     * Token by token, each token would read its own misses, and the union's neurons again for every
     * token that uses them; here each missing neuron is read once for the whole batch, through the
     * stream buffer in rounds of large coalesced reads, and every token is computed over each round's
     * rows (a row counts for a token only where its gate fires for that token). The rows cached
     * before the batch are computed for every token while the first round is read. The misses the
     * batch's last token uses get cache rows where room can be made, so the decode that follows
     * starts with them. The window, the activity and the hot region's warm-up count the batch as
     * its tokens, each neuron requested as often as tokens use it.
     */
    private void streamBatch(Layer L, int mark, int union, int batch, boolean gateKnown, float[] x, float[] out) {
        // Kept rows need the last token's gate; without it (dense, predicted on bundled gates) all misses stream.
        NeuronCache cache = L.cache;
        int n = L.layout.neurons();
        float[] lastGate = gateKnown ? gateBatch[batch - 1] : null;
        cache.beginTokens(batch);
        int m = 0, wanted = 0;
        for (int j = 0; j < n; j++) {
            if (L.stamp[j] != mark || cache.touch(j, batchUses[j])) continue;
            L.miss[m++] = j;
            if (lastGate != null && activation.apply(lastGate[j]) != 0f) wanted++;
        }
        L.counters.lookups(union, union - m);
        int toKeep = wanted == 0 ? 0 : Math.min(wanted, cache.makeRoom(wanted));
        int cachedRows = cache.used();
        for (int b = 0; b < batch; b++) {
            System.arraycopy(x, b * dim, xBatch[b], 0, dim);
            Arrays.fill(outBatch[b], 0, dim, 0f);
        }
        int i = 0, kept = 0;
        boolean cachedDone = false;
        do {
            int start = i, streamed = 0, nNew = 0;
            try {
                while (i < m && streamed < stream.capacity()) {
                    int neuron = L.miss[i++];
                    int row = kept < toKeep && activation.apply(lastGate[neuron]) != 0f ? cache.reserve(neuron) : -1;
                    if (row >= 0) {
                        kept++;
                        L.dest[neuron] = row;
                        L.newRows[nNew++] = row;
                    } else {
                        streamIds[streamed] = neuron;
                        L.dest[neuron] = -(streamed + 2);
                        streamed++;
                    }
                }
                if (i > start) {
                    planReads(L, start, i);
                    io.submit(L.batch);
                }
                if (!cachedDone) {
                    computeBatch(L, cache.rows(), cache, null, null, 0, cachedRows, x, batch, gateKnown);
                    cachedDone = true;
                }
                if (i > start) {
                    long w = System.nanoTime();
                    L.batch.await();
                    waitNanos += System.nanoTime() - w;
                }
            } catch (RuntimeException e) {
                if (i > start && !L.batch.isDone()) awaitQuietly(L.batch);
                // A row reserved in this round holds whatever its read left there: drop it.
                for (int k = start; k < i; k++) if (L.dest[L.miss[k]] >= 0) cache.evict(L.miss[k]);
                throw e;
            } finally {
                for (int k = start; k < i; k++) L.dest[L.miss[k]] = -1;
            }
            L.counters.loaded(i - start);
            computeBatch(L, cache.rows(), cache, null, L.newRows, 0, nNew, x, batch, gateKnown);
            computeBatch(L, stream, null, streamIds, null, 0, streamed, x, batch, gateKnown);
        } while (i < m);
        for (int b = 0; b < batch; b++) {
            float[] o = outBatch[b];
            if (L.downBias != null) for (int k = 0; k < dim; k++) o[k] += L.downBias[k];
            System.arraycopy(o, 0, out, b * dim, dim);
        }
    }

    /**
     * Adds rows {@code [from, to)} (of {@code list} when given) to every token's output in
     * {@link #outBatch}; {@code x} holds the batch's activations, token after token.
     */
    private void computeBatch(Layer L, RowMatrix rows, NeuronCache cache, int[] ids, int[] list, int from, int to,
                              float[] x, int batch, boolean gateKnown) {
        if (to <= from) return;
        if (list == null && batchedRows(gateKnown)) {
            float[] flat = batchBuffer(2, batch * dim);
            Arrays.fill(flat, 0, batch * dim, 0f);
            computeRowsBatched(L, rows, cache, ids, from, to, x, batch, flat);
            for (int b = 0; b < batch; b++) {
                float[] o = outBatch[b];
                for (int i = 0; i < dim; i++) o[i] += flat[b * dim + i];
            }
            return;
        }
        try {
            for (int b = 0; b < batch; b++) {
                batchGate = gateKnown ? gateBatch[b] : null;
                compute(L, rows, cache, ids, list, null, 0, from, to, xBatch[b], outBatch[b]);
            }
        } finally {
            batchGate = null;
        }
    }

    /**
     * Whether a batch's rows go through matrix products ({@link #computeRowsBatched}) rather than
     * token by token: when nothing chose the rows per token, that is when the gates are not known
     * yet (every row's gate comes from its cached gate row) or the FFN has no gate.
     */
    private boolean batchedRows(boolean gateKnown) {
        return !gateKnown && (activation.gated() ? gateIndex >= 0 : upIndex >= 0);
    }

    /** Rows per round of {@link #computeRowsBatched}: its buffers hold batch x this many floats. */
    private static final int BATCH_ROWS = 1024;

    /**
     * {@code out[b*dim ..] +=} the contributions of rows {@code [from, to)} for every token b of
     * {@code x} (batch x dim, token after token), as matrix products over the batch: the up (and
     * gate) rows of each round times all tokens ({@link MatVec#matmul}), the activation in bulk, and
     * the down rows added into every token's output ({@link MatVec#axpyBatch}). Each row is read
     * once per batch instead of once per token.
     */
    private void computeRowsBatched(Layer L, RowMatrix rows, NeuronCache cache, int[] ids, int from, int to,
                                    float[] x, int batch, float[] out) {
        int most = Math.min(BATCH_ROWS, to - from);
        float[] g = batchBuffer(0, batch * most);
        float[] u = batchBuffer(1, batch * most);
        for (int r = from; r < to; r += BATCH_ROWS) {
            int n = Math.min(BATCH_ROWS, to - r);
            MatVec.matmul(parallel, rowsOf(rows, upIndex, r, n), x, batch, u);
            if (L.upBias != null) {
                for (int i = 0; i < n; i++) {
                    float ub = L.upBias[cache != null ? cache.idAt(r + i) : ids[r + i]];
                    for (int b = 0; b < batch; b++) u[b * n + i] += ub;
                }
            }
            if (activation.gated()) {
                MatVec.matmul(parallel, rowsOf(rows, gateIndex, r, n), x, batch, g);
                activation.applyGated(g, u, 0, batch * n);
            } else {
                for (int i = 0; i < batch * n; i++) g[i] = activation.apply(u[i]);
            }
            MatVec.axpyBatch(parallel, rowsOf(rows, downIndex, r, n), g, batch, out);
        }
    }

    /** Rows {@code [from, from + n)} of part {@code p} as a matrix of their own. */
    private static WeightTensor rowsOf(RowMatrix rows, int p, int from, int n) {
        WeightTensor t = rows.part(p);
        long rb = rows.rowBytes(p);
        return new WeightTensor(t.name(), t.type(), new long[] {t.cols(), n}, t.data().asSlice(from * rb, n * rb));
    }

    /** {@link #computeRowsBatched}'s gate and up products (0, 1) and a batch's summed output (2), grown to the largest batch. */
    private final float[][] batchBuffers = new float[3][0];

    private float[] batchBuffer(int i, int size) {
        if (batchBuffers[i].length < size) batchBuffers[i] = new float[size];
        return batchBuffers[i];
    }

    private float[] xTok = new float[0];
    private float[] outTok = new float[0];
    private float[][] gateBatch = new float[0][];
    /** Each token's input and output while {@link #streamBatch} adds the rounds up (the kernels take whole arrays). */
    private float[][] xBatch = new float[0][];
    private float[][] outBatch = new float[0][];
    /** How many of the batch's tokens use each neuron of the union (valid where the layer's stamp is the batch's mark). */
    private int[] batchUses = new int[0];

    /** Grows the batch buffers to the largest batch seen (allocation happens once per new maximum). */
    private void ensureBatch(int batch) {
        if (xTok.length != dim) {
            xTok = new float[dim];
            outTok = new float[dim];
        }
        if (batchUses.length == 0) {
            int most = 0;
            for (Layer l : layers) most = Math.max(most, l.layout.neurons());
            batchUses = new int[most];
        }
        if (gateBatch.length < batch) {
            int n = layers[0].layout.neurons();
            float[][] g = new float[batch][];
            float[][] xs = new float[batch][];
            float[][] o = new float[batch][];
            for (int b = 0; b < batch; b++) {
                g[b] = b < gateBatch.length ? gateBatch[b] : new float[n];
                xs[b] = b < xBatch.length ? xBatch[b] : new float[dim];
                o[b] = b < outBatch.length ? outBatch[b] : new float[dim];
            }
            gateBatch = g;
            xBatch = xs;
            outBatch = o;
        }
    }

    /** Reads the groups holding {@code miss[from..to)} (ascending), coalesced, and waits. */
    private void readNeurons(Layer L, int from, int to) {
        planReads(L, from, to);
        io.execute(L.batch);
    }

    /** Fills the layer's batch with coalesced reads of the groups holding {@code miss[from..to)}. */
    private void planReads(Layer L, int from, int to) {
        planReadsInto(L, from, to, L.batch, 0);
    }

    /**
     * Fills {@code batch} with coalesced reads of the groups holding {@code miss[from..to)}, their
     * runs written to runStart/runLength from {@code runBase}; returns the number of runs.
     */
    private int planReadsInto(Layer L, int from, int to, ReadBatch batch, int runBase) {
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
        int runs = Coalescer.coalesce(L.groups, g, options.coalesceGapGroups(), maxRun, L.runStart, L.runLength, runBase);
        batch.clear();
        for (int r = runBase; r < runBase + runs; r++) {
            batch.add(L.file.blockFile(), L.file.groupOffset(L.runStart[r]), (int) (L.runLength[r] * gb));
        }
        return runs;
    }

    /**
     * out += sum over rows [0, count) of act(row)·down(row). Rows are dealt to one chunk per thread
     * in turn, each accumulating into its own partial output, summed at the end; small sets run on
     * the calling thread. Allocation-free: the job object and partial outputs are reused.
     */
    private void compute(Layer L, RowMatrix rows, NeuronCache cache, int[] ids, int from, int to, float[] x, float[] out) {
        compute(L, rows, cache, ids, null, null, 0, from, to, x, out);
    }

    /**
     * As above over {@code list[from..to)} when {@code list} is given (row numbers), skipping rows
     * {@code r} with {@code skip[r] == mark} when {@code skip} is given.
     */
    private void compute(Layer L, RowMatrix rows, NeuronCache cache, int[] ids, int[] list, int[] skip, int mark,
                         int from, int to, float[] x, float[] out) {
        int count = to - from;
        if (count <= 0) return;
        int chunks = parallel == null ? 1 : Math.min(parallel.threads(), Math.max(1, count / MIN_ROWS_PER_CHUNK));
        float[] gate = gateOf(L);
        if (gate == null && pairType != null && pairPrep.length > 0) MatVec.prepare(pairType, x, dim, pairPrep);
        if (chunks <= 1) {
            if (parallel != null) parallel.runPending(); // no loop to overlap: the reads go first
            accumulateRange(L, rows, cache, ids, list, skip, mark, from, to, 1, gate, x, out, 0);
            return;
        }
        job.set(L, rows, cache, ids, from, count, chunks, x);
        job.list = list;
        job.skip = skip;
        job.mark = mark;
        job.gate = gate;
        parallel.forRange(chunks, job);
        for (int c = 0; c < chunks; c++) {
            float[] p = partial[c];
            for (int i = 0; i < dim; i++) out[i] += p[i];
        }
    }

    private static final int MIN_ROWS_PER_CHUNK = 16;

    /** The reusable parallel body of {@link #compute}. */
    private final class ComputeJob implements Parallel.RangeBody {
        Layer layer;
        RowMatrix rows;
        NeuronCache cache;
        int[] ids;
        int from;
        int count;
        int chunks;
        float[] x;
        float[] gate;
        int[] list;
        int[] skip;
        int mark;

        void set(Layer layer, RowMatrix rows, NeuronCache cache, int[] ids, int from, int count, int chunks, float[] x) {
            this.from = from;
            this.layer = layer;
            this.rows = rows;
            this.cache = cache;
            this.ids = ids;
            this.count = count;
            this.chunks = chunks;
            this.x = x;
        }

        @Override
        public void run(int firstChunk, int endChunk) {
            for (int c = firstChunk; c < endChunk; c++) {
                float[] p = partial[c];
                java.util.Arrays.fill(p, 0f);
                // Every chunks-th row from c, not a contiguous share: the neurons that fire most sit
                // together (the hot region first), so halves of the rows differ threefold in work.
                accumulateRange(layer, rows, cache, ids, list, skip, mark, from + c, from + count, chunks, gate, x, p, c);
            }
        }
    }

    /**
     * Gate pre-activations of the token being computed when the selector produced them (all
     * neurons), else null and the gate is computed per row.
     */
    private float[] gateOf(Layer L) {
        if (batchGate != null) return batchGate;
        return L.selection.gateKnown() ? L.selection.gatePre() : null;
    }

    /** A batch's union of selected neurons and whether its gate values are known, while it is selected. */
    private int batchUnion;
    private boolean batchGateKnown;

    /** Set while {@link #forwardBatch} computes one token of a batch. */
    private float[] batchGate;

    /**
     * out += the contributions of rows r0, r0 + step, ... below r1 (ids from the cache, or {@code ids} for stream rows).
     * With the gate pre-activations known (an exact selector computed them), the firing rows are
     * gathered first, their up products run through the multi-row kernel, four rows per pass
     * over the activations, and their down columns are added eight at a time; otherwise each row is
     * handled on its own.
     */
    private void accumulateRange(Layer L, RowMatrix rows, NeuronCache cache, int[] ids, int[] list, int[] skip, int mark,
                                 int r0, int r1, int step, float[] gatePre, float[] x, float[] out, int chunk) {
        if (gatePre == null || !activation.gated()) {
            for (int i = r0; i < r1; i += step) {
                int r = list == null ? i : list[i];
                if (skip != null && skip[r] == mark) continue;
                accumulate(L, rows, r, cache != null ? cache.idAt(r) : ids[r], gatePre, x, out, chunk);
            }
            return;
        }
        int[] firing = firingRows[chunk];
        float[] act = firingAct[chunk];
        float[] up = firingUp[chunk];
        int n = 0;
        for (int i = r0; i < r1; i += step) {
            int r = list == null ? i : list[i];
            if (skip != null && skip[r] == mark) continue;
            int id = cache != null ? cache.idAt(r) : ids[r];
            float g = activation.apply(gatePre[id]);
            if (g == 0f) continue;
            firing[n] = r;
            act[n] = g;
            if (L.upBias != null) up[n] = L.upBias[id]; // the bias rides along until the product is added
            n++;
        }
        if (n == 0) return;
        float[] prod = firingProd[chunk];
        MatVec.matvecRows(null, rows.part(upIndex), firing, n, x, prod);
        for (int i = 0; i < n; i++) act[i] *= prod[i] + (L.upBias != null ? up[i] : 0f);
        MatVec.axpyRows(rows.part(downIndex), firing, act, n, out, 0);
    }

    private void accumulate(Layer L, RowMatrix rows, int r, int id, float[] gatePre, float[] x, float[] out, int chunk) {
        float a;
        float ub = L.upBias != null ? L.upBias[id] : 0f;
        if (activation.gated() && gatePre == null && pairType != null) {
            float[] gu = pairOut[chunk];
            MatVec.dotPair(pairType, rows.all(), rows.partOffset(gateIndex) + r * rows.rowBytes(gateIndex),
                    rows.partOffset(upIndex) + r * rows.rowBytes(upIndex), dim, x, pairPrep, gu, 0);
            float g = activation.apply(gu[0]);
            if (g == 0f) return;
            a = g * (gu[1] + ub);
        } else if (activation.gated()) {
            float gate;
            if (gatePre != null) gate = gatePre[id];
            else if (gateIndex >= 0) gate = MatVec.dot(rows.part(gateIndex), r, x, 0);
            else gate = MatVec.dot(L.residentGate, id, x, 0);
            float g = activation.apply(gate);
            if (g == 0f) return;
            a = g * (MatVec.dot(rows.part(upIndex), r, x, 0) + ub);
        } else {
            a = activation.apply(MatVec.dot(rows.part(upIndex), r, x, 0) + ub);
            if (a == 0f) return;
        }
        MatVec.axpy(rows.part(downIndex), r, a, out, 0);
    }

    /**
     * Reads ahead the next layer's likely neurons (the selector's hint) while this layer computes.
     * An unranked hint (dense: every neuron) goes only into free rows: evicting for it could throw
     * out neurons the window still wants. A ranked one (gate-exact's guessed gate values) reads its
     * {@link BundleFfnOptions#prefetchGuesses} likeliest uncached neurons, into free rows or in place of the least
     * active neurons the next layer's last token did not use. The reads complete in the background;
     * the next layer waits for them before it looks anything up (after its first gate range when it
     * chooses in ranges).
     */
    private void startPrefetch(Layer next, float[] x) {
        if (next.prefetchPending) return;
        boolean guess = selector.guessesGateValues();
        if (guess && !guessPays(next)) return;
        long t0 = System.nanoTime();
        Selection h = next.hint;
        h.clear();
        if (!selector.prefetchHint(next.index, x, h)) return;
        int m = h.gateKnown() ? chooseGuessed(next, h) : chooseFree(next, h);
        if (guess) {
            long cost = System.nanoTime() - t0;
            next.guessCost = next.guessCost < 0 ? cost : next.guessCost + (cost - next.guessCost) / 8;
        }
        if (m == 0) return;
        next.prefetched = m;
        next.prefetchPending = true;
        planReads(next, 0, m);
        io.submit(next.batch);
    }

    /**
     * Whether guessing at layer {@code next} is worth a second gate product: some guesses to read, and
     * the layer recently waited on flash at least {@link BundleFfnOptions#guessPays} times what its
     * guess costs. Both are measured, so the guess stops where the cache holds what the tokens need,
     * and starts again when they wait. The first guess is made to learn its cost.
     */
    private boolean guessPays(Layer next) {
        if (options.prefetchGuesses() == 0) return false;
        return next.guessCost < 0 || next.recentWait >= options.guessPays() * next.guessCost;
    }

    /** Uncached hint neurons into free rows, in the hint's order; their count. */
    private int chooseFree(Layer next, Selection h) {
        int free = next.cache.capacity() - next.cache.used();
        int m = 0;
        int[] ids = h.neurons();
        for (int i = 0; i < h.count() && m < free; i++) {
            int n = ids[i];
            if (next.cache.rowOf(n) < 0) next.miss[m++] = n;
        }
        for (int k = 0; k < m; k++) next.dest[next.miss[k]] = next.cache.reserve(next.miss[k]);
        return m;
    }

    /** The likeliest uncached hint neurons by guessed gate value, given rows; their count, ascending in miss. */
    private int chooseGuessed(Layer next, Selection h) {
        int want = options.prefetchGuesses();
        if (want <= 0) return 0;
        NeuronCache cache = next.cache;
        float[] guess = h.gatePre();
        int[] ids = h.neurons();
        // Min-heap of (guess bits, id) over the best seen so far; firing guesses are positive, so bits order as floats.
        long[] heap = next.guessHeap;
        int size = 0;
        want = Math.min(want, heap.length);
        for (int i = 0; i < h.count(); i++) {
            int n = ids[i];
            if (cache.rowOf(n) >= 0) continue;
            long key = ((long) Float.floatToRawIntBits(guess[n]) << 32) | n;
            if (size < want) {
                LongMinHeap.push(heap, size++, key);
            } else if (key > heap[0]) {
                LongMinHeap.replaceMin(heap, size, key);
            }
        }
        int m = 0;
        boolean replacing = false;
        for (int k = 0; k < size; k++) {
            int n = (int) heap[k];
            int row = cache.reserve(n);
            if (row < 0) {
                if (!replacing) {
                    cache.beginReplacing();
                    cache.offerVictims(0, cache.neuronCount());
                    replacing = true;
                }
                row = cache.claimAny(n);
                if (row < 0) break;
            }
            next.dest[n] = row;
            next.miss[m++] = n;
        }
        Arrays.sort(next.miss, 0, m); // reads are planned over ascending ids
        next.counters.readAhead(m);
        return m;
    }

    /**
     * Waits for a read-ahead into this layer; a failed one leaves no half-filled rows behind.
     * Returns the nanoseconds waited, for the caller to count as waiting on flash.
     */
    private long finishPrefetch(Layer L) {
        if (!L.prefetchPending) return 0;
        L.prefetchPending = false;
        long t0 = System.nanoTime();
        try {
            L.batch.await();
            L.counters.loaded(L.prefetched);
            return System.nanoTime() - t0;
        } catch (RuntimeException e) {
            for (int k = 0; k < L.prefetched; k++) L.cache.evict(L.miss[k]);
            throw e;
        } finally {
            for (int k = 0; k < L.prefetched; k++) L.dest[L.miss[k]] = -1;
            L.prefetched = 0;
        }
    }

    @Override
    public synchronized void forgetActivity() {
        for (Layer L : layers) {
            L.cache.forgetActivity();
            L.hotChosenAt = -1;
            L.hotGiven = false;
        }
    }

    /**
     * Chooses the hot region once the warm-up tokens are counted, and again every as many tokens
     * after: a region chosen once from the first tokens pins neurons that were frequent only then
     * (a replay of recorded selections put that at 2.6 points of hit rate over a long decode).
     */
    private void maybeChooseHot(Layer L) {
        if (options.hotRowsPerLayer() == 0 || L.hotGiven || L.cache.countedSteps() < options.hotWarmupTokens()) return;
        if (L.hotChosenAt >= 0 && L.cache.step() - L.hotChosenAt < options.hotWarmupTokens()) return;
        chooseHot(L);
    }

    /**
     * Makes the most frequently requested cached neurons (counted since the warm-up) the hot
     * region, in place of the previous choice. Sorts (count, neuron) pairs packed in longs: no
     * allocation once the scratch array exists.
     */
    private void chooseHot(Layer L) {
        L.hotChosenAt = L.cache.step();
        NeuronCache c = L.cache;
        int used = c.used();
        if (hotOrder.length < used) hotOrder = new long[c.capacity()];
        for (int r = 0; r < used; r++) {
            int id = c.idAt(r);
            hotOrder[r] = ((long) c.activationCount(id) << 32) | id;
        }
        Arrays.sort(hotOrder, 0, used);
        int h = Math.min(options.hotRowsPerLayer(), used);
        if (hotTop.length < h) hotTop = new int[h];
        for (int i = 0; i < h; i++) hotTop[i] = (int) hotOrder[used - 1 - i];
        c.repin(hotTop, h);
    }

    private long[] hotOrder = new long[0];
    private int[] hotTop = new int[0];

    /**
     * Loads {@code neurons} (ascending, e.g. from calibration statistics) into layer {@code layer}'s
     * cache and pins them in the hot region. Returns how many were pinned.
     */
    public synchronized int pinHot(int layer, int[] neurons) {
        Layer L = layers[layer];
        finishPrefetch(L);
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
        L.hotGiven = true;
        return L.cache.pin(neurons, h);
    }

    @Override
    public synchronized void close() {
        // The model closes its FFN and the bundle closes it again: the second call does nothing.
        if (closed) return;
        closed = true;
        for (Layer L : layers) {
            try {
                finishPrefetch(L);
            } catch (RuntimeException e) {
                // closing anyway; the fault surfaced (or will) on the read path
            }
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
