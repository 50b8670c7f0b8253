package io.flashllm.server.metrics;

import io.flashllm.engine.api.FlashStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Publishes a flash-backed model's {@link FlashStats}: per-layer neuron-cache counters, flash bytes,
 * reads and read latency, DRAM budget and use per region, and predictor recall when a predictor
 * runs. Every meter reads the store's own counters at scrape time; nothing is added per token.
 * Names and meanings are listed in server/METRICS.md.
 */
public record FlashStoreMetrics(FlashStats stats) implements FlashMetricsBinder {

    // Micrometer holds a function meter's object weakly; the functions below capture stats so the
    // meters keep it alive for as long as the registry lives.
    @Override
    public void bindTo(MeterRegistry registry) {
        int layers = stats.layers();
        new LayerCounters("flashllm.neuron.cache.lookups", "FFN neurons needed, per layer", layers,
                stats::lookups).bindTo(registry);
        new LayerCounters("flashllm.neuron.cache.hits", "FFN neurons found in the DRAM neuron cache, per layer",
                layers, stats::hits).bindTo(registry);
        new LayerCounters("flashllm.neurons.loaded", "FFN neurons read from flash, per layer", layers,
                stats::neuronsLoaded).bindTo(registry);
        new LayerCounters("flashllm.neurons.read.ahead", "FFN neurons read from flash ahead of need on a guess, per layer"
                + " (counted in flashllm_neurons_loaded_total too)", layers, stats::readAhead).bindTo(registry);
        new LayerCounters("flashllm.neuron.cache.evictions", "neurons dropped from the DRAM neuron cache, per layer",
                layers, stats::evictions).bindTo(registry);
        FunctionCounter.builder("flashllm.flash.read.bytes", stats, s -> stats.bytesRead())
                .baseUnit("bytes").description("bytes read from flash").register(registry);
        FunctionCounter.builder("flashllm.flash.reads", stats, s -> stats.reads())
                .description("reads issued to flash (one per coalesced run of neuron groups)").register(registry);
        bindReadLatency(registry);
        if (stats.predictorRecall().isPresent()) {
            Gauge.builder("flashllm.predictor.recall", stats, s -> s.predictorRecall().orElse(Double.NaN))
                    .strongReference(true)
                    .description("share of truly active FFN neurons the predictor selected, checked tokens since load")
                    .register(registry);
        }
        if (stats.predictorChecks().isPresent()) {
            predictorCounter(registry, "flashllm.predictor.checks", "(token, layer) pairs checked against the exact mask",
                    FlashStats.PredictorChecks::samples);
            predictorCounter(registry, "flashllm.predictor.true.positives", "truly active FFN neurons the predictor selected",
                    FlashStats.PredictorChecks::truePositives);
            predictorCounter(registry, "flashllm.predictor.false.negatives", "truly active FFN neurons the predictor missed",
                    FlashStats.PredictorChecks::falseNegatives);
            predictorCounter(registry, "flashllm.predictor.false.positives", "FFN neurons the predictor selected that were not active",
                    FlashStats.PredictorChecks::falsePositives);
        }
        for (FlashStats.MemoryRegion r : stats.memoryRegions()) {
            gauge(registry, "flashllm.memory.budget", "DRAM set aside per region", r.name(), r.budget());
            if (r.used() != null) gauge(registry, "flashllm.memory.used", "DRAM in use per region", r.name(), r.used());
        }
    }

    private void predictorCounter(MeterRegistry registry, String name, String description,
                                  java.util.function.ToLongFunction<FlashStats.PredictorChecks> field) {
        FunctionCounter.builder(name, stats, s -> s.predictorChecks().map(field::applyAsLong).orElse(0L))
                .description(description).register(registry);
    }

    private void bindReadLatency(MeterRegistry registry) {
        if (registry instanceof PrometheusMeterRegistry prometheus) {
            prometheus.getPrometheusRegistry().register(new ReadLatencyCollector(stats));
        } else {
            // Other registries get count and total time (mean latency); buckets need the Prometheus path.
            FunctionTimer.builder("flashllm.flash.read", stats, s -> stats.readLatency().count(),
                            s -> stats.readLatency().sumSeconds(), TimeUnit.SECONDS)
                    .description("latency of one flash read").register(registry);
        }
    }

    private static void gauge(MeterRegistry registry, String name, String description, String region, LongSupplier bytes) {
        // Strong reference: Micrometer holds gauge targets weakly and these suppliers have no other owner.
        Gauge.builder(name, bytes, b -> (double) b.getAsLong()).strongReference(true).baseUnit("bytes")
                .description(description).tag("region", region).register(registry);
    }
}
