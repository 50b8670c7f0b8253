package io.flashllm.server.metrics;

import io.flashllm.engine.api.DecodeStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Publishes a model's {@link DecodeStats}: the DRAM its open sessions' KV caches hold (one per busy
 * slot), and how many decode steps of concurrent slots ran as one batch. Read at scrape time from
 * the model's own counters. Names and meanings are listed in server/METRICS.md.
 */
public record DecodeMetrics(DecodeStats stats) implements FlashMetricsBinder {
    @Override
    public void bindTo(MeterRegistry registry) {
        // Micrometer holds a function meter's object weakly: the gauge holds it strongly and the
        // counters' functions capture stats, as in FlashStoreMetrics, so the meters keep it alive.
        Gauge.builder("flashllm.kv.cache", stats, DecodeStats::kvCacheBytesOpen).strongReference(true)
                .baseUnit("bytes").description("DRAM held by the KV caches of the sessions open now (one per slot that has served)")
                .register(registry);
        FunctionCounter.builder("flashllm.decode.batches", stats, x -> stats.decodeBatches())
                .description("passes that ran several slots' decode steps together (each weight read once for all)")
                .register(registry);
        FunctionCounter.builder("flashllm.decode.batched.steps", stats, x -> stats.batchedDecodeSteps())
                .description("decode steps (generated tokens) that ran in such a pass").register(registry);
    }
}
