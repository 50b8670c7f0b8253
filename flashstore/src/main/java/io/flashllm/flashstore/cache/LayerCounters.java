package io.flashllm.flashstore.cache;

import java.util.concurrent.atomic.LongAdder;

/**
 * Monotonic counters of one layer's neuron cache and flash reads, for metrics (Prometheus counters:
 * hit rate = hits / lookups over any window). Updated from the FFN thread and the I/O threads.
 */
public final class LayerCounters {
    private final LongAdder lookups = new LongAdder();
    private final LongAdder hits = new LongAdder();
    private final LongAdder neuronsLoaded = new LongAdder();
    private final LongAdder readAhead = new LongAdder();
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder reads = new LongAdder();
    private final LongAdder readNanos = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder selectNanos = new LongAdder();
    private final LongAdder loadNanos = new LongAdder();
    private final LongAdder computeNanos = new LongAdder();
    /** Read latency histogram: bucket i counts reads of at most 2^i microseconds (last bucket: the rest). */
    private final LongAdder[] latency = new LongAdder[LATENCY_BUCKETS];

    public static final int LATENCY_BUCKETS = 24;

    public LayerCounters() {
        for (int i = 0; i < latency.length; i++) latency[i] = new LongAdder();
    }

    public void lookups(long n, long hit) {
        lookups.add(n);
        hits.add(hit);
    }

    public void loaded(long neurons) {
        neuronsLoaded.add(neurons);
    }

    /** Neurons read ahead of need on the selector's guess (counted in {@link #loaded} too). */
    public void readAhead(long neurons) {
        readAhead.add(neurons);
    }

    public void read(long bytes, long nanos) {
        bytesRead.add(bytes);
        reads.increment();
        readNanos.add(nanos);
        long micros = Math.max(1, (nanos + 999) / 1000);
        int bucket = 64 - Long.numberOfLeadingZeros(micros - 1);
        latency[Math.min(bucket, LATENCY_BUCKETS - 1)].increment();
    }

    /** Upper bound in seconds of latency bucket {@code i} (infinite for the last). */
    public static double latencyBucketSeconds(int i) {
        return i == LATENCY_BUCKETS - 1 ? Double.POSITIVE_INFINITY : (1L << i) / 1e6;
    }

    /** Reads that took at most {@link #latencyBucketSeconds}(i) and more than bucket i-1's bound. */
    public long latencyCount(int i) {
        return latency[i].sum();
    }

    /** Time of one token at this layer: choosing neurons, blocked on reads (what compute could not hide), computing. */
    public void phases(long select, long load, long compute) {
        selectNanos.add(select);
        loadNanos.add(load);
        computeNanos.add(compute);
    }

    public long selectNanos() { return selectNanos.sum(); }
    public long loadNanos() { return loadNanos.sum(); }
    public long computeNanos() { return computeNanos.sum(); }

    public void evicted(long n) {
        evictions.add(n);
    }

    public long lookups() { return lookups.sum(); }
    public long hits() { return hits.sum(); }
    public long neuronsLoaded() { return neuronsLoaded.sum(); }
    public long readAhead() { return readAhead.sum(); }
    public long bytesRead() { return bytesRead.sum(); }
    public long reads() { return reads.sum(); }
    /** Sum of the latencies of all reads, nanoseconds (mean = readNanos / reads). */
    public long readNanos() { return readNanos.sum(); }
    public long evictions() { return evictions.sum(); }

    @Override
    public String toString() {
        return "lookups=" + lookups() + " hits=" + hits() + " loaded=" + neuronsLoaded() + " readAhead=" + readAhead() + " bytesRead=" + bytesRead()
                + " reads=" + reads() + " readNanos=" + readNanos() + " evictions=" + evictions();
    }
}
