package io.flashllm.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.api.FlashStats;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/**
 * The binder over hand-made stats: the exposition carries exactly the given counts (buckets made
 * cumulative, +Inf equal to the count), gauges follow live values, and the recall gauge appears only
 * when a predictor reports one.
 */
class FlashStoreMetricsTest {
    /** Two layers; read-latency bucket counts 3, 0, 5 and 2 beyond the last bound. */
    private static final class Stats implements FlashStats {
        OptionalDouble recall = OptionalDouble.empty();
        long windowUsed = 100;

        @Override public int layers() { return 2; }
        @Override public long lookups(int layer) { return 10 + layer; }
        @Override public long hits(int layer) { return 4 + layer; }
        @Override public long neuronsLoaded(int layer) { return 6; }
        @Override public long readAhead(int layer) { return layer; }
        @Override public long evictions(int layer) { return 2 * layer; }
        @Override public long bytesRead() { return 40960; }
        @Override public long reads() { return 10; }

        @Override
        public ReadLatency readLatency() {
            return new ReadLatency(new double[] {1e-4, 1e-3, 1e-2, Double.POSITIVE_INFINITY}, new long[] {3, 0, 5, 2}, 0.25);
        }

        @Override
        public List<MemoryRegion> memoryRegions() {
            return List.of(new MemoryRegion("resident", () -> 1000, () -> 1000),
                    new MemoryRegion("kv_cache", () -> 500, null),
                    new MemoryRegion("window", () -> 400, () -> windowUsed));
        }

        @Override public OptionalDouble predictorRecall() { return recall; }

        java.util.Optional<PredictorChecks> checks = java.util.Optional.empty();

        @Override public java.util.Optional<PredictorChecks> predictorChecks() { return checks; }
    }

    private static String scrape(Stats stats) {
        try (ServerMetrics m = new ServerMetrics()) {
            m.bind(new FlashStoreMetrics(stats));
            stats.windowUsed = 250; // gauges are read at scrape time
            return m.scrape();
        }
    }

    @Test
    void exportsCountersHistogramAndRegions() {
        String text = scrape(new Stats());
        for (String line : List.of(
                "flashllm_neuron_cache_lookups_total{layer=\"1\"} 11.0",
                "flashllm_neuron_cache_hits_total{layer=\"0\"} 4.0",
                "flashllm_neurons_loaded_total{layer=\"1\"} 6.0",
                "flashllm_neurons_read_ahead_total{layer=\"1\"} 1.0",
                "flashllm_neuron_cache_evictions_total{layer=\"1\"} 2.0",
                "flashllm_flash_read_bytes_total 40960.0",
                "flashllm_flash_reads_total 10.0",
                "# TYPE flashllm_flash_read_seconds histogram",
                "flashllm_flash_read_seconds_bucket{le=\"1.0E-4\"} 3",
                "flashllm_flash_read_seconds_bucket{le=\"0.001\"} 3",
                "flashllm_flash_read_seconds_bucket{le=\"0.01\"} 8",
                "flashllm_flash_read_seconds_bucket{le=\"+Inf\"} 10",
                "flashllm_flash_read_seconds_count 10",
                "flashllm_flash_read_seconds_sum 0.25",
                "flashllm_memory_budget_bytes{region=\"kv_cache\"} 500.0",
                "flashllm_memory_used_bytes{region=\"window\"} 250.0")) {
            assertTrue(text.lines().anyMatch(line::equals), "missing: " + line + "\n" + text);
        }
        assertFalse(text.contains("flashllm_memory_used_bytes{region=\"kv_cache\"}"), "kv_cache use is not known");
        assertFalse(text.contains("flashllm_predictor_recall"), "no predictor, no recall gauge");
    }

    @Test
    void recallGaugeOnlyWithAPredictor() {
        Stats stats = new Stats();
        stats.recall = OptionalDouble.of(0.93);
        String text = scrape(stats);
        assertTrue(text.lines().anyMatch("flashllm_predictor_recall 0.93"::equals), text);
        assertFalse(text.contains("flashllm_predictor_true_positives_total"), "no counts, no counters");
    }

    @Test
    void predictorCountersWhenTheStatsHaveThem() {
        Stats stats = new Stats();
        stats.recall = OptionalDouble.of(0.9);
        stats.checks = java.util.Optional.of(new FlashStats.PredictorChecks(12, 90, 10, 300));
        String text = scrape(stats);
        for (String line : List.of("flashllm_predictor_checks_total 12.0", "flashllm_predictor_true_positives_total 90.0",
                "flashllm_predictor_false_negatives_total 10.0", "flashllm_predictor_false_positives_total 300.0")) {
            assertTrue(text.lines().anyMatch(line::equals), "missing: " + line + "\n" + text);
        }
    }

    @Test
    void latencySnapshotNeedsAnInfiniteLastBucket() {
        assertThrows(IllegalArgumentException.class, () -> new FlashStats.ReadLatency(new double[] {1e-3}, new long[] {1}, 0));
        assertEquals(7, new FlashStats.ReadLatency(new double[] {1e-3, Double.POSITIVE_INFINITY}, new long[] {4, 3}, 0).count());
    }
}
