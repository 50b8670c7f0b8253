package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.FlashStats;
import io.flashllm.engine.api.FlashStatsSource;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.generate.LoadedModel;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.flashstore.budget.MemoryBudget;
import io.flashllm.flashstore.bundle.BundleFeedForward;
import io.flashllm.flashstore.bundle.BundleModel;
import io.flashllm.flashstore.bundle.BundleOpenOptions;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.server.metrics.FlashStoreMetrics;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny llama-relu model converted to a flash bundle, served by {@code flashllm serve}'s command
 * with a memory budget that holds a quarter of the neurons: after a few completions /metrics shows
 * the flash store's counters moving, a read-latency histogram with buckets, the budget split, and
 * the slot's KV cache.
 */
class FlashMetricsTest {
    private static final int LAYERS = 2;
    private static final int FFN = 256;
    private static final int CTX = 128;

    @TempDir
    static Path dir;
    static Path gguf;
    static Path bundle;

    @BeforeAll
    static void convert() throws Exception {
        gguf = dir.resolve("tiny-relu.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA_RELU, 64, LAYERS, 4, 2, FFN, 512, SynthType.F32, SynthFormat.GGUF,
                5L, null, CTX, "tiny relu"), gguf);
        bundle = dir.resolve("tiny-relu.bundle");
        Converter.convert(gguf, bundle, ConvertOptions.defaults().withGateResident(true).withMinReadBytes(4096)
                // A GGUF does not say its FFN is ReLU-gated; the converter needs telling to pick gate-exact.
                .withActivation(new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f)));
    }

    /** Open options whose budget leaves the neuron cache a quarter of every layer, window of one token. */
    private static BundleOpenOptions budgeted() {
        long kv = MemoryBudget.kvCacheBytes(LAYERS, CTX, 2 * 16 * 4);
        BundleOpenOptions base = BundleOpenOptions.defaults().withWindow(1).withIoDepth(2).withOverhead(1 << 20);
        try (BundleModel probe = BundleModel.open(bundle, base.withMemoryBudget(1L << 30, kv), null)) {
            MemoryBudget.Split s = probe.budget();
            long fixed = s.resident() + s.kvCache() + s.ioBuffers() + s.stream() + s.overhead();
            long rowBytes = probe.feedForward(null).cacheRowBytes();
            return base.withMemoryBudget(fixed + rowBytes * LAYERS * (FFN / 4), kv);
        }
    }

    @Test
    void servedBundleExportsTheFlashStoreMeters() throws Exception {
        BundleOpenOptions bundleOptions = budgeted();
        LoadOptions opts = LoadOptions.defaults().withThreads(1).withMaxContext(CTX).withBundle(bundleOptions);
        Map<String, Double> m = ServedMetrics.afterCompletions(cfg -> ModelLoader.load(bundle, opts), CTX,
                "the cat sat on the mat", "once upon a time", "flash memory is slow");
        for (int l = 0; l < LAYERS; l++) {
            String layer = "{layer=\"" + l + "\"}";
            double lookups = value(m, "flashllm_neuron_cache_lookups_total" + layer);
            double hits = value(m, "flashllm_neuron_cache_hits_total" + layer);
            double loaded = value(m, "flashllm_neurons_loaded_total" + layer);
            double evictions = value(m, "flashllm_neuron_cache_evictions_total" + layer);
            double ahead = value(m, "flashllm_neurons_read_ahead_total" + layer);
            assertTrue(hits > 0 && lookups > hits, "layer " + l + ": lookups " + lookups + ", hits " + hits);
            // Misses are read once; a neuron read ahead on a guess is read without having been missed.
            assertTrue(loaded > 0 && loaded <= lookups - hits + ahead, "layer " + l + ": loaded " + loaded + ", ahead " + ahead);
            // Layers that wait on flash are guessed at; this tiny model's reads are quick, so after the
            // first guesses (which measure their cost) there may be none.
            if (l == 0) assertEquals(0, ahead, "nothing comes before layer 0 to guess at it");
            else assertTrue(ahead >= 0 && ahead <= loaded, "layer " + l + ": ahead " + ahead + ", loaded " + loaded);
            assertTrue(evictions > 0, "a cache of a quarter of the neurons with a one-token window evicts");
        }
        double bytes = value(m, "flashllm_flash_read_bytes_total");
        double reads = value(m, "flashllm_flash_reads_total");
        assertTrue(bytes > 0 && reads > 0 && bytes >= reads * 4096, "bytes " + bytes + ", reads " + reads);

        // A real histogram: cumulative buckets ending at +Inf, which equals _count, which equals the reads.
        Pattern bucket = Pattern.compile("flashllm_flash_read_seconds_bucket\\{le=\"([^\"]+)\"}");
        double previous = 0;
        int buckets = 0;
        for (Map.Entry<String, Double> e : m.entrySet()) {
            Matcher b = bucket.matcher(e.getKey());
            if (!b.matches()) continue;
            buckets++;
            assertTrue(e.getValue() >= previous, "buckets must be cumulative: " + e.getKey());
            previous = e.getValue();
        }
        assertTrue(buckets > 10, "read-latency buckets: " + buckets);
        assertEquals(reads, value(m, "flashllm_flash_read_seconds_bucket{le=\"+Inf\"}"));
        assertEquals(reads, value(m, "flashllm_flash_read_seconds_count"));
        assertTrue(value(m, "flashllm_flash_read_seconds_sum") > 0);

        assertEquals(Set.of("resident", "kv_cache", "io_buffers", "stream", "overhead", "hot", "window"),
                regions(m, "flashllm_memory_budget_bytes"));
        assertEquals(Set.of("resident", "io_buffers", "stream", "hot", "window"), regions(m, "flashllm_memory_used_bytes"));
        double budgetSum = 0;
        for (Map.Entry<String, Double> e : m.entrySet()) {
            if (e.getKey().startsWith("flashllm_memory_budget_bytes{")) budgetSum += e.getValue();
        }
        assertTrue(budgetSum <= bundleOptions.memoryBudget(), "the regions add up to at most the budget");
        assertTrue(value(m, "flashllm_memory_used_bytes{region=\"window\"}")
                <= value(m, "flashllm_memory_budget_bytes{region=\"window\"}"));
        assertTrue(value(m, "flashllm_memory_used_bytes{region=\"window\"}") > 0);
        assertFalse(m.keySet().stream().anyMatch(k -> k.startsWith("flashllm_predictor_recall")),
                "no predictor runs, so no recall gauge");
        // The one slot keeps its session, and with it a KV cache of the served context (F16).
        assertEquals((double) MemoryBudget.kvCacheBytes(LAYERS, CTX, 2 * 16 * 2), value(m, "flashllm_kv_cache_bytes"));
        // One slot never batches.
        assertEquals(0, value(m, "flashllm_decode_batches_total"));
        assertEquals(0, value(m, "flashllm_decode_batched_steps_total"));
    }

    @Test
    void withoutBudgetRegionsAreTheAllocatedBuffersAndOtherRegistriesGetATimer() throws Exception {
        try (InferenceModel model = ModelLoader.load(bundle, LoadOptions.defaults().withThreads(1).withMaxContext(CTX))) {
            FlashStats stats = ((FlashStatsSource) model).flashStats().orElseThrow();
            try (Session session = model.openSession(CTX)) {
                session.generate(model.tokenize("hello", true), SamplingParams.greedy(4), null);
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            new FlashStoreMetrics(stats).bindTo(registry);
            FunctionTimer t = registry.get("flashllm.flash.read").functionTimer();
            assertEquals(stats.reads(), (long) t.count());
            assertTrue(t.count() > 0);
            Set<String> regions = new TreeSet<>();
            registry.get("flashllm.memory.budget").gauges().forEach(g -> regions.add(g.getId().getTag("region")));
            assertEquals(Set.of("resident", "io_buffers", "stream", "hot", "window"), regions);
            // No budget: the cache may hold every neuron of every layer.
            BundleFeedForward ffn = (BundleFeedForward) ((LoadedModel) model).languageModel().ffn();
            long rowBytes = ffn.cacheRowBytes();
            assertEquals((double) rowBytes * FFN * LAYERS,
                    registry.get("flashllm.memory.budget").tag("region", "window").gauge().value());
        }
    }

    @Test
    void aModelAllInDramHasNoFlashStats() {
        try (InferenceModel model = ModelLoader.load(gguf, LoadOptions.defaults().withThreads(1).withMaxContext(CTX))) {
            assertTrue(((FlashStatsSource) model).flashStats().isEmpty());
        }
    }

    private static double value(Map<String, Double> m, String key) {
        Double v = m.get(key);
        if (v == null) throw new AssertionError("no sample " + key);
        return v;
    }

    private static Set<String> regions(Map<String, Double> m, String name) {
        Set<String> s = new TreeSet<>();
        Pattern p = Pattern.compile(Pattern.quote(name) + "\\{region=\"([^\"]+)\"}");
        for (String k : m.keySet()) {
            Matcher x = p.matcher(k);
            if (x.matches()) s.add(x.group(1));
        }
        return s;
    }
}
