package io.flashllm.server.metrics;

import io.flashllm.engine.api.ExpertStats;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Publishes a mixture of experts' {@link ExpertStats}: per layer, the experts tokens used, those not in DRAM
 * when needed (of which some were read ahead) and those paged out under the budget; and, under a budget, the
 * experts' DRAM share and use as the {@code experts} region of the memory gauges. Read at scrape time only. Names
 * and meanings are listed in server/METRICS.md.
 */
public record ExpertMetrics(ExpertStats stats) implements FlashMetricsBinder {

    @Override
    public void bindTo(MeterRegistry registry) {
        int layers = stats.layers();
        new LayerCounters("flashllm.expert.lookups", "experts tokens used, per layer (a prompt batch counts each once)",
                layers, stats::lookups).bindTo(registry);
        new LayerCounters("flashllm.expert.misses", "experts not in DRAM when needed (read from the model file),"
                + " per layer", layers, stats::misses).bindTo(registry);
        new LayerCounters("flashllm.expert.read.ahead", "experts read before the layer's router chose them, while a prompt"
                + " batch ran the layer before, per layer (counted in flashllm_expert_misses_total too)", layers,
                stats::readAhead).bindTo(registry);
        new LayerCounters("flashllm.expert.pageouts", "experts that left DRAM (paged out or gave up their slot) to keep to the memory budget, per layer",
                layers, stats::pageOuts).bindTo(registry);
        if (stats.budgetBytes() > 0) {
            // Strong references: Micrometer holds gauge targets weakly, and stats has no other owner here.
            Gauge.builder("flashllm.memory.budget", stats, s -> s.budgetBytes()).strongReference(true)
                    .baseUnit("bytes").description("DRAM set aside per region").tag("region", "experts").register(registry);
            Gauge.builder("flashllm.memory.used", stats, s -> s.usedBytes()).strongReference(true)
                    .baseUnit("bytes").description("DRAM in use per region").tag("region", "experts").register(registry);
        }
    }
}
