package io.flashllm.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.IntToLongFunction;

/**
 * Publishes a monotonically increasing per-layer count that its owner keeps itself (a LongAdder or a
 * plain field per layer), read only when /metrics is scraped, so the hot path pays nothing. Example:
 * {@code new LayerCounters("flashllm.neuron.cache.hits", "neuron cache hits", layers, cache::hits)}
 * gives flashllm_neuron_cache_hits_total{layer="0"}... and Grafana derives hit rates over any window.
 */
public record LayerCounters(String name, String description, int layers, IntToLongFunction countOfLayer)
        implements FlashMetricsBinder {

    @Override
    public void bindTo(MeterRegistry registry) {
        for (int layer = 0; layer < layers; layer++) {
            final int l = layer;
            FunctionCounter.builder(name, countOfLayer, f -> f.applyAsLong(l))
                    .description(description)
                    .tag("layer", Integer.toString(layer))
                    .register(registry);
        }
    }
}
