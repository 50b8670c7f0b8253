package io.flashllm.engine;

import io.flashllm.engine.api.FlashStats;
import io.flashllm.flashstore.budget.MemoryBudget;
import io.flashllm.flashstore.bundle.BundleFeedForward;
import io.flashllm.flashstore.bundle.BundleModel;
import io.flashllm.flashstore.bundle.Manifest;
import io.flashllm.flashstore.cache.LayerCounters;
import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.predictor.runtime.PredictedSelector;
import io.flashllm.predictor.runtime.QualityCounters;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.LongSupplier;

/**
 * {@link FlashStats} over a bundle's FFN: reads the per-layer {@link LayerCounters} and cache fill
 * levels the FFN keeps for itself, so publishing them adds no work per token.
 *
 * <p>Memory regions follow {@link MemoryBudget.Split} when the bundle was opened with a budget.
 * Without one the budget of a region is what the runtime allocated for it (the cache may then grow
 * to every neuron), and the KV cache and overhead, which nothing bounds, are left out.
 */
final class BundleFlashStats implements FlashStats {
    private final BundleFeedForward ffn;
    private final List<MemoryRegion> regions;

    BundleFlashStats(BundleModel bundle, BundleFeedForward ffn) {
        this.ffn = ffn;
        this.regions = List.copyOf(regions(bundle, ffn));
    }

    private static List<MemoryRegion> regions(BundleModel bundle, BundleFeedForward ffn) {
        int layers = ffn.layers();
        long rowBytes = ffn.cacheRowBytes();
        long residentFiles = residentFileBytes(bundle.manifest());
        MemoryBudget.Split split = bundle.budget();
        List<MemoryRegion> r = new ArrayList<>();
        long resident = split != null ? split.resident() : residentFiles;
        // The resident files are mapped whole; what the OS keeps paged in is its business.
        r.add(new MemoryRegion("resident", constant(resident), constant(residentFiles)));
        if (split != null) r.add(new MemoryRegion("kv_cache", constant(split.kvCache()), null));
        long io = ffn.ioBufferBytes();
        r.add(new MemoryRegion("io_buffers", constant(split != null ? split.ioBuffers() : io), constant(io)));
        long stream = ffn.streamBufferBytes();
        r.add(new MemoryRegion("stream", constant(split != null ? split.stream() : stream), constant(stream)));
        if (split != null) r.add(new MemoryRegion("overhead", constant(split.overhead()), null));
        long hotCapacity = (long) ffn.options().hotRowsPerLayer() * rowBytes * layers;
        long windowCapacity = 0;
        for (int l = 0; l < layers; l++) {
            windowCapacity += (long) (ffn.cache(l).rows().capacity() - ffn.options().hotRowsPerLayer()) * rowBytes;
        }
        r.add(new MemoryRegion("hot", constant(split != null ? split.hotRegion() : hotCapacity),
                () -> rows(ffn, true) * rowBytes));
        r.add(new MemoryRegion("window", constant(split != null ? split.windowCache() : Math.max(0, windowCapacity)),
                () -> rows(ffn, false) * rowBytes));
        return r;
    }

    private static LongSupplier constant(long v) {
        return () -> v;
    }

    /** Cached rows over all layers, in the hot region or in the window part. */
    private static long rows(BundleFeedForward ffn, boolean hot) {
        long n = 0;
        for (int l = 0; l < ffn.layers(); l++) {
            NeuronCache c = ffn.cache(l);
            // Plain int fields read from another thread: a torn view across two fields is fine for a gauge.
            int h = c.hotCount();
            n += hot ? h : Math.max(0, c.used() - h);
        }
        return n;
    }

    private static long residentFileBytes(Manifest m) {
        long b = 0;
        for (Manifest.FileEntry e : m.files()) if (!m.layout().layerFiles().contains(e.path())) b += e.bytes();
        return b;
    }

    @Override
    public int layers() {
        return ffn.layers();
    }

    @Override
    public long lookups(int layer) {
        return ffn.counters(layer).lookups();
    }

    @Override
    public long hits(int layer) {
        return ffn.counters(layer).hits();
    }

    @Override
    public long neuronsLoaded(int layer) {
        return ffn.counters(layer).neuronsLoaded();
    }

    @Override
    public long readAhead(int layer) {
        return ffn.counters(layer).readAhead();
    }

    @Override
    public long evictions(int layer) {
        return ffn.counters(layer).evictions();
    }

    @Override
    public long bytesRead() {
        long b = 0;
        for (int l = 0; l < ffn.layers(); l++) b += ffn.counters(l).bytesRead();
        return b;
    }

    @Override
    public long reads() {
        long n = 0;
        for (int l = 0; l < ffn.layers(); l++) n += ffn.counters(l).reads();
        return n;
    }

    @Override
    public FfnPhases ffnPhases() {
        long select = 0, wait = 0, compute = 0;
        for (int l = 0; l < ffn.layers(); l++) {
            LayerCounters c = ffn.counters(l);
            select += c.selectNanos();
            wait += c.loadNanos();
            compute += c.computeNanos();
        }
        return new FfnPhases(select, wait, compute);
    }

    @Override
    public ReadLatency readLatency() {
        int k = LayerCounters.LATENCY_BUCKETS;
        double[] bounds = new double[k];
        long[] counts = new long[k];
        for (int i = 0; i < k; i++) bounds[i] = LayerCounters.latencyBucketSeconds(i);
        long nanos = 0;
        for (int l = 0; l < ffn.layers(); l++) {
            LayerCounters c = ffn.counters(l);
            for (int i = 0; i < k; i++) counts[i] += c.latencyCount(i);
            nanos += c.readNanos();
        }
        return new ReadLatency(bounds, counts, nanos / 1e9);
    }

    @Override
    public List<MemoryRegion> memoryRegions() {
        return regions;
    }

    @Override
    public OptionalDouble predictorRecall() {
        // Present whenever a predictor checks itself, so the gauge exists from the start; NaN until
        // the first checked token had an active neuron.
        if (!(ffn.selector() instanceof PredictedSelector p) || p.sampler() == null) return OptionalDouble.empty();
        QualityCounters.Snapshot s = p.sampler().total().snapshot();
        long positives = s.truePositives() + s.falseNegatives();
        return OptionalDouble.of(positives == 0 ? Double.NaN : (double) s.truePositives() / positives);
    }

    @Override
    public Optional<PredictorChecks> predictorChecks() {
        if (!(ffn.selector() instanceof PredictedSelector p) || p.sampler() == null) return Optional.empty();
        QualityCounters.Snapshot s = p.sampler().total().snapshot();
        return Optional.of(new PredictorChecks(s.samples(), s.truePositives(), s.falseNegatives(), s.falsePositives()));
    }
}
