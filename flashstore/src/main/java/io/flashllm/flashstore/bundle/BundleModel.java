package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.budget.BudgetException;
import io.flashllm.flashstore.budget.MemoryBudget;
import io.flashllm.flashstore.budget.RuntimeOverhead;
import io.flashllm.flashstore.budget.MemorySize;
import io.flashllm.flashstore.cache.RowMatrix;
import io.flashllm.flashstore.cache.RowShape;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.hf.HfModelDir;
import io.flashllm.flashstore.io.IoEngine;
import io.flashllm.flashstore.io.MemoryLock;
import io.flashllm.flashstore.select.DenseSelector;
import io.flashllm.flashstore.select.GateExactSelector;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An opened flash bundle: the resident part (memory-mapped and used in place, through the same
 * reader the source format uses, {@link GgufFile} or {@link HfModelDir}) and the FFN of every
 * layer as a {@link BundleFeedForward}. The model loader builds the transformer from
 * {@link #gguf()} or {@link #hf()} exactly as for a plain model and uses {@link #feedForward()}
 * in place of the dense FFN.
 */
public final class BundleModel implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(BundleModel.class.getName());

    private final Path dir;
    private final Manifest manifest;
    private final GgufFile gguf;
    private final HfModelDir hf;
    private final List<FfnFile> files;
    private final List<WeightTensor> gates;
    private final List<float[]> upBiases;
    private final List<float[]> downBiases;
    private final String selectorName;
    private final SelectorProvider selectors;
    private final double predictorSampleRate;
    private final java.util.function.Function<String, WeightTensor> residentTensor;
    private final BundleFfnOptions ffnOptions;
    private final IoEngine io;
    private BundleFeedForward ffn;
    private final MemoryBudget.Split budget;
    private final FfnActivation activation;
    private Parallel ownedParallel;
    private Parallel ffnParallel;
    private boolean closed;
    /** The gates read from flash per layer when the budget cannot keep them resident; else null. */
    private final GateStream gateStream;
    /** How the resident file is paged (advised only under a budget). */
    private final ResidentPaging.Report paging;

    private BundleModel(Path dir, Manifest manifest, GgufFile gguf, HfModelDir hf, List<FfnFile> files,
                        List<WeightTensor> gates, List<float[]> upBiases, List<float[]> downBiases, String selectorName,
                        BundleFfnOptions ffnOptions, IoEngine io, MemoryBudget.Split budget, FfnActivation activation,
                        BundleOpenOptions options, java.util.function.Function<String, WeightTensor> residentTensor,
                        GateStream gateStream, ResidentPaging.Report paging) {
        this.gateStream = gateStream;
        this.paging = paging;
        this.selectors = options.selectors();
        this.predictorSampleRate = options.predictorSampleRate();
        this.residentTensor = residentTensor;
        this.files = files;
        this.gates = gates;
        this.upBiases = upBiases;
        this.downBiases = downBiases;
        this.selectorName = selectorName;
        this.ffnOptions = ffnOptions;
        this.io = io;
        this.dir = dir;
        this.manifest = manifest;
        this.gguf = gguf;
        this.hf = hf;
        this.budget = budget;
        this.activation = activation;
    }

    /** True when {@code path} looks like a bundle directory (has a manifest). */
    public static boolean isBundle(Path path) {
        return Files.isDirectory(path) && Files.isRegularFile(path.resolve(BundleFormat.MANIFEST));
    }

    /**
     * Opens and checks the bundle: manifest, files, checksums (per {@link BundleOpenOptions#verify()}),
     * the resident part, the FFN files and the memory budget. The FFN itself is built by
     * {@link #feedForward(Parallel)} with the model's thread pool (or by {@link #feedForward()}).
     */
    public static BundleModel open(Path dir, BundleOpenOptions options) {
        return open(dir, options, null, false);
    }

    /** Opens and builds the FFN at once on {@code parallel} (null = the calling thread). */
    public static BundleModel open(Path dir, BundleOpenOptions options, Parallel parallel) {
        return open(dir, options, parallel, true);
    }

    private static BundleModel open(Path dir, BundleOpenOptions options, Parallel parallel, boolean buildFfn) {
        Manifest m = Manifest.read(dir);
        for (Manifest.FileEntry e : m.files()) {
            BundleFiles.checkPresence(dir, e, f -> {
                throw f;
            });
        }
        Manifest.Layout layout = m.layout();
        if (options.verify() != BundleOpenOptions.Verify.NONE) {
            for (Manifest.FileEntry e : m.files()) {
                boolean ffnFile = layout.layerFiles().contains(e.path());
                java.util.function.Predicate<String> which = ffnFile && options.verify() == BundleOpenOptions.Verify.QUICK
                        ? s -> !s.equals("groups") : null;
                BundleFiles.checkSections(dir, e, which, f -> {
                    throw f;
                });
            }
        }
        GgufFile gguf = null;
        HfModelDir hf = null;
        List<FfnFile> files = new ArrayList<>();
        IoEngine io = null;
        GateStream gateStream = null;
        try {
            Path residentPath = dir.resolve(layout.residentFile());
            if (layout.residentFile().endsWith(".gguf")) gguf = GgufFile.open(residentPath);
            else hf = HfModelDir.open(dir);
            final GgufFile g = gguf;
            final HfModelDir h = hf;
            java.util.function.Function<String, WeightTensor> tensor = name -> {
                WeightTensor t = g != null ? g.tensor(name) : (h.contains(name) ? h.tensor(name) : null);
                if (t == null) throw new BundleException(residentPath, "missing resident tensor '" + name + "'");
                return t;
            };

            FfnActivation act = options.activation() != null ? options.activation()
                    : new FfnActivation(FfnActivation.Kind.valueOf(m.model().activation()), m.model().activationThreshold());
            List<WeightTensor> gates = null;
            List<float[]> upBias = new ArrayList<>();
            List<float[]> downBias = new ArrayList<>();
            boolean anyBias = false;
            for (List<String> names : layout.residentFfnTensors()) {
                if (names.get(0) != null) {
                    if (gates == null) gates = new ArrayList<>();
                    gates.add(tensor.apply(names.get(0)));
                }
                upBias.add(names.get(1) == null ? null : floats(tensor.apply(names.get(1))));
                downBias.add(names.get(2) == null ? null : floats(tensor.apply(names.get(2))));
                anyBias |= names.get(1) != null || names.get(2) != null;
            }

            for (int l = 0; l < m.model().layers(); l++) {
                FfnFile f = FfnFile.open(dir.resolve(layout.layerFiles().get(l)), options.preferDirect());
                files.add(f);
                if (f.header().layer() != l || f.layout().neurons() != m.model().ffnDim()
                        || f.layout().groupBytes() != layout.groupBytes() || f.layout().neuronsPerGroup() != layout.neuronsPerGroup()) {
                    throw new BundleException(f.path(), "header does not match the manifest (layer, neurons or group layout)");
                }
                if (options.verify() == BundleOpenOptions.Verify.FULL) f.checkAllGroups(x -> {
                    throw x;
                });
            }

            // Refuse an impossible selector now, not at the first token.
            selector(options.selector(), act, gates, dir, null, options.selectors(),
                    new SelectorContext(dir, m, act, tensor, null, 0, true), null).close();
            BundleLayout bl = files.getFirst().layout();
            List<RowShape> cacheShapes = new ArrayList<>();
            for (PartSpec p : bl.parts()) {
                if (p.part() == Part.GATE && gates != null) continue;
                cacheShapes.add(new RowShape(p.part().name(), p.type(), p.elements()));
            }
            long rowBytes = RowMatrix.bytesFor(cacheShapes, 1);
            long groupBytes = bl.groupBytes();
            // Native AIO is asynchronous only with O_DIRECT: buffered reads would run one at a time.
            boolean aio = IoEngine.nativeAioAvailable() && files.stream().allMatch(f -> f.blockFile().direct());
            int depth = options.ioDepth() > 0 ? options.ioDepth()
                    : aio ? BundleOpenOptions.autoNativeAioDepth(groupBytes) : BundleOpenOptions.AUTO_IO_DEPTH_THREADS;
            int maxRead = maxReadBytes((int) groupBytes, depth, aio);
            int streamRows = 1024;
            MemoryBudget.Split split = null;
            ResidentPaging.Report paging = ResidentPaging.Report.NONE;
            int neurons = m.model().ffnDim();
            // For comparison runs: -Dflashllm.selectChunks=1 chooses all of a layer's neurons before reading any;
            // -Dflashllm.cache.halfLife=0 makes room least recently used first, caching every miss it can;
            // -Dflashllm.cache.windowFloor=false evicts past the window even where gate-exact would keep them;
            BundleFfnOptions fo = BundleFfnOptions.unlimited(neurons).withWindow(options.window())
                    .withSelectChunks(Integer.getInteger("flashllm.selectChunks", BundleFfnOptions.DEFAULT_SELECT_CHUNKS))
                    .withHalfLife(Integer.getInteger("flashllm.cache.halfLife", BundleFfnOptions.DEFAULT_HALF_LIFE))
                    .withPrefetchGuesses(options.prefetchGuesses())
                    .withWindowFloor(Boolean.parseBoolean(System.getProperty("flashllm.cache.windowFloor", "true")));
            if (options.memoryBudget() > 0) {
                long residentBytes = 0;
                for (Manifest.FileEntry e : m.files()) if (!layout.layerFiles().contains(e.path())) residentBytes += e.bytes();
                java.util.function.Function<String, WeightTensor> present = name -> g != null ? g.tensor(name)
                        : h.contains(name) ? h.tensor(name) : null;
                long paged = PagedEmbeddings.uncountedBytes(present);
                List<ResidentPaging.Mapped> residentTensors = ResidentPaging.tensors(residentPath, g, h);
                if (paged > 0) {
                    residentBytes -= paged;
                    LOG.log(System.Logger.Level.INFO, PagedEmbeddings.describe(paged));
                }
                // Locked, the resident tensors cannot be evicted and re-read, so the headroom kept for
                // the kernel beside them shrinks and the neuron cache gets it (RuntimeOverhead).
                // Not past the memory the process may use, though: locked pages cannot be evicted, and a
                // cgroup whose limit the budget and heap exceed kills the process instead of paging.
                long limit = MemoryLock.processMemoryLimit(), heap = Runtime.getRuntime().maxMemory();
                boolean fits = options.memoryBudget() <= limit - heap;
                if (!fits) {
                    LOG.log(System.Logger.Level.WARNING, "memory budget " + MemorySize.format(options.memoryBudget())
                            + " and the Java heap " + MemorySize.format(heap) + " exceed the memory this process may use ("
                            + MemorySize.format(limit) + "): the resident tensors are not locked, and the kernel will evict"
                            + " and re-read them from flash; a budget of at most " + MemorySize.format(Math.max(0, limit - heap))
                            + " fits");
                }
                boolean lock = fits && MemoryLock.permitted(residentBytes);
                long overhead = lock ? Math.max(0, options.overheadBytes() - RuntimeOverhead.LOCKED_SAVING) : options.overheadBytes();
                MemoryBudget full = new MemoryBudget(options.memoryBudget(), residentBytes, options.kvCacheBytes(),
                        (long) depth * maxRead, rowBytes * streamRows, overhead,
                        m.model().layers(), neurons, rowBytes, options.hotFraction());
                try {
                    split = full.split();
                } catch (BudgetException tooSmall) {
                    // Gates that do not fit are read from flash per layer, into two buffers, if that fits.
                    if (gates == null || g == null) throw tooSmall;
                    long gateBytes = 0, span = 0;
                    for (WeightTensor t : gates) {
                        gateBytes += t.data().byteSize();
                        span = Math.max(span, GateStream.spanBound(t.data().byteSize()));
                    }
                    long buffers = GateStream.bufferBytes(gates.size(), span);
                    // Streaming the gates needs the page cache's headroom even with the rest locked: with
                    // 16 MiB less of it the 600 MiB capped run thrashed (docs/benchmarks.md §4, session 26).
                    MemoryBudget streamed = new MemoryBudget(full.total(), residentBytes - gateBytes, full.kvCacheBytes(),
                            full.ioBufferBytes(), full.streamBytes(), options.overheadBytes(), full.layers(), neurons, rowBytes,
                            full.hotFraction(), buffers);
                    try {
                        split = streamed.split();
                    } catch (BudgetException evenThen) {
                        throw new BudgetException(tooSmall.getMessage() + "; reading the gate matrices from flash per layer"
                                + " would still need " + MemorySize.format(streamed.residentBytes() + streamed.kvCacheBytes()
                                + streamed.ioBufferBytes() + streamed.streamBytes() + streamed.overheadBytes() + buffers));
                    }
                    java.util.Map<String, Long> offsets = new java.util.HashMap<>();
                    for (ResidentPaging.Mapped r : residentTensors) offsets.put(r.tensor().name(), r.offset());
                    List<GateStream.Source> sources = new ArrayList<>();
                    for (WeightTensor t : gates) sources.add(new GateStream.Source(t, offsets.get(t.name())));
                    try {
                        gateStream = new GateStream(residentPath, sources, options.preferDirect());
                    } catch (IOException e) {
                        throw new BundleException(residentPath, "cannot open it to stream the gate matrices: " + e.getMessage(), e);
                    }
                    gates = gateStream.gates();
                    LOG.log(System.Logger.Level.INFO, "memory budget: the gate matrices (" + MemorySize.format(gateBytes)
                            + ") do not fit beside the rest; each layer's gate is read from flash as the layer runs, the next"
                            + " layer's while this one computes (" + MemorySize.format(buffers) + " of buffers)");
                }
                fo = fo.withCache(split.cacheRowsPerLayer(), split.hotRowsPerLayer()).withHotWarmup(options.hotWarmupTokens());
                LOG.log(System.Logger.Level.INFO, split.describe());
                java.util.Set<String> notHeld = new java.util.HashSet<>();
                if (gateStream != null) for (WeightTensor t : gates) notHeld.add(t.name());
                String pagedTable = PagedEmbeddings.pagedTable(present);
                if (pagedTable != null) notHeld.add(pagedTable);
                paging = ResidentPaging.apply(residentTensors, notHeld, lock);
                if (paging.advised()) LOG.log(System.Logger.Level.INFO, paging.describe());
            }
            fo = fo.withStreamRows(streamRows);
            io = new IoEngine(depth, maxRead, aio);
            LOG.log(System.Logger.Level.INFO, "flash reads: " + io.describe());
            BundleModel bm = new BundleModel(dir, m, gguf, hf, files, gates, anyBias ? upBias : null,
                    anyBias ? downBias : null, options.selector(), fo, io, split, act, options, tensor, gateStream, paging);
            if (buildFfn) bm.feedForward(parallel);
            return bm;
        } catch (ModelFileException e) {
            if (gateStream != null) gateStream.close();
            closeQuietly(gguf, hf, files, io);
            throw new BundleException(dir, "resident part is damaged: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            if (gateStream != null) gateStream.close();
            closeQuietly(gguf, hf, files, io);
            throw e;
        }
    }

    private static NeuronSelector selector(String name, FfnActivation act, List<WeightTensor> gates, Path dir,
                                           Parallel parallel, SelectorProvider provider, SelectorContext context,
                                           List<float[]> ffnNorms) {
        String s = name == null ? "auto" : name;
        if (s.equals("auto")) s = gates != null && act.gated() && act.sparse() ? "gate-exact" : "dense";
        return switch (s) {
            case "dense" -> new DenseSelector();
            case "gate-exact" -> {
                if (gates == null) {
                    throw new BundleException(dir, "selector gate-exact needs the gate matrices resident; this bundle keeps"
                            + " them in the FFN files (convert again with the gates resident)");
                }
                if (!act.gated() || !act.sparse()) {
                    throw new BundleException(dir, "selector gate-exact is exact only for gated ReLU-family activations, not " + act.kind());
                }
                yield new GateExactSelector(gates, act, parallel, ffnNorms);
            }
            default -> {
                NeuronSelector p = provider == null ? null : provider.open(s, context);
                if (p != null) yield p;
                if (s.equals("predicted")) {
                    throw new BundleException(dir, "selector predicted needs the sparsity-predictor module, which this"
                            + " program did not register");
                }
                throw new BundleException(dir, "unknown neuron selector '" + name + "' (auto, dense, gate-exact, predicted)");
            }
        };
    }

    /** Every layer's FFN-input norm weights, or null when a layer has none. */
    private List<float[]> ffnNorms(int layers) {
        java.util.function.Predicate<String> exists = n -> gguf != null ? gguf.tensor(n) != null : hf.contains(n);
        List<float[]> norms = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            String name = FfnNames.ffnNorm(l, exists);
            if (name == null) return null;
            norms.add(floats(gguf != null ? gguf.tensor(name) : hf.tensor(name)));
        }
        return norms;
    }

    private static float[] floats(WeightTensor t) {
        float[] v = new float[Math.toIntExact(t.elements())];
        ScalarReference.dequantize(t.type(), t.data(), 0, v, 0, v.length);
        return v;
    }

    /**
     * The largest single read: a whole number of neuron groups. Worker threads coalesce neighbouring
     * groups up to 1 MiB each. Native AIO keeps many more reads in flight, each with its own buffer,
     * so together they get 4 MiB (at most 1 MiB each): one-neuron (8 KiB) groups coalesce up to
     * 32 KiB at depth 128.
     */
    static int maxReadBytes(int groupBytes, int depth, boolean nativeAio) {
        long perRead = nativeAio ? Math.min(1L << 20, (4L << 20) / depth) : 1L << 20;
        return (int) Math.max(groupBytes, perRead / groupBytes * groupBytes);
    }

    private static void closeQuietly(GgufFile g, HfModelDir h, List<FfnFile> files, IoEngine io) {
        if (g != null) g.close();
        if (h != null) h.close();
        for (FfnFile f : files) {
            try {
                f.close();
            } catch (IOException ignored) {
                // already failing; the first fault is the one reported
            }
        }
        if (io != null) io.close();
    }

    public Path dir() {
        return dir;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The resident part when the source was GGUF (metadata, tokenizer, non-FFN tensors), else null. */
    public GgufFile gguf() {
        return gguf;
    }

    /** The resident part when the source was an HF directory, else null. */
    public HfModelDir hf() {
        return hf;
    }

    /**
     * The FFN of every layer, computing on {@code parallel} (the model's pool; null = the calling
     * thread). Built on the first call; later calls return the same FFN and must pass the same pool.
     */
    public synchronized BundleFeedForward feedForward(Parallel parallel) {
        if (ffn != null) {
            if (parallel != ffnParallel) throw new IllegalStateException("the bundle FFN was already built on another thread pool");
            return ffn;
        }
        double rate = predictorSampleRate >= 0 ? predictorSampleRate
                : gates != null ? BundleOpenOptions.DEFAULT_PREDICTOR_SAMPLE_RATE : 0;
        // The next layer's guess reads its gate: only where the gates are in DRAM, not read per layer.
        NeuronSelector selector = selector(selectorName, activation, gates, dir, parallel, selectors,
                new SelectorContext(dir, manifest, activation, residentTensor, parallel, rate, false),
                gateStream == null && gates != null ? ffnNorms(gates.size()) : null);
        try {
            ffn = new BundleFeedForward(files, gates, upBiases, downBiases, activation, selector, ffnOptions, io, true, parallel);
            if (gateStream != null) {
                ffn.beforeEachLayer(gateStream::acquire);
                // Gate reads are flash traffic too: they count in the layer's bytes, reads and read latency.
                BundleFeedForward f = ffn;
                gateStream.onRead((layer, bytes, nanos) -> f.counters(layer).read(bytes, nanos));
            }
        } catch (RuntimeException e) {
            selector.close();
            throw e;
        }
        ffnParallel = parallel;
        return ffn;
    }

    /** The FFN, built if needed on a pool of its own sized to the machine's processors. */
    public synchronized BundleFeedForward feedForward() {
        if (ffn != null) return ffn;
        ownedParallel = Parallel.create(Math.max(1, Runtime.getRuntime().availableProcessors()));
        return feedForward(ownedParallel);
    }

    public FfnActivation activation() {
        return activation;
    }

    /** The memory budget split, or null when no budget was given. */
    public MemoryBudget.Split budget() {
        return budget;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        if (ffn != null) {
            ffn.close();
            ffn.selector().close();
        } else {
            for (FfnFile f : files) {
                try {
                    f.close();
                } catch (IOException ignored) {
                    // read-only files; nothing to lose
                }
            }
            io.close();
        }
        if (gateStream != null) gateStream.close();
        if (gguf != null) gguf.close();
        if (hf != null) hf.close();
        if (ownedParallel != null) ownedParallel.close();
    }

    /** How the resident file is paged: advised under a budget, {@link ResidentPaging.Report#NONE} otherwise. */
    ResidentPaging.Report paging() {
        return paging;
    }

    /** The gates read from flash per layer, or null when they are resident (or absent). */
    GateStream gateStream() {
        return gateStream;
    }
}
