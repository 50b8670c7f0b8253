package io.flashllm.server.metrics;

import io.flashllm.engine.api.FlashStats;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * {@code flashllm_flash_read_seconds} as a classic Prometheus histogram built at scrape time from
 * the fixed buckets the I/O path already counts (one LongAdder per bucket). Micrometer cannot do
 * this: its function meters carry no buckets, and a Micrometer Timer would put a second record
 * call on every flash read. So this registers straight on the Prometheus registry that Micrometer
 * scrapes.
 */
final class ReadLatencyCollector implements Collector {
    static final String NAME = "flashllm_flash_read_seconds";

    private final FlashStats stats;

    ReadLatencyCollector(FlashStats stats) {
        this.stats = stats;
    }

    @Override
    public MetricSnapshot collect() {
        FlashStats.ReadLatency h = stats.readLatency();
        HistogramSnapshot.HistogramDataPointSnapshot point = HistogramSnapshot.HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(h.upperBoundsSeconds(), h.counts()))
                .sum(h.sumSeconds())
                .build();
        return HistogramSnapshot.builder()
                .name(NAME)
                .help("latency of one flash read (a coalesced run of neuron groups)")
                .unit(Unit.SECONDS)
                .dataPoint(point)
                .build();
    }

    @Override
    public String getPrometheusName() {
        return NAME;
    }
}
