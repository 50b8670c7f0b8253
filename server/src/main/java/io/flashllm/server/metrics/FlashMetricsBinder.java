package io.flashllm.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * Hook for components outside the HTTP layer (the flash store's per-layer neuron cache, the I/O
 * engine, the predictor) to publish their own meters on /metrics. Implementations register meters
 * named flashllm_* with base units; {@link LayerCounters} helps with per-layer counters.
 */
@FunctionalInterface
public interface FlashMetricsBinder {
    void bindTo(MeterRegistry registry);
}
