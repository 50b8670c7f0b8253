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
    private final LongAdder bytesRead = new LongAdder();
    private final LongAdder reads = new LongAdder();
    private final LongAdder readNanos = new LongAdder();
    private final LongAdder evictions = new LongAdder();

    public void lookups(long n, long hit) {
        lookups.add(n);
        hits.add(hit);
    }

    public void loaded(long neurons) {
        neuronsLoaded.add(neurons);
    }

    public void read(long bytes, long nanos) {
        bytesRead.add(bytes);
        reads.increment();
        readNanos.add(nanos);
    }

    public void evicted(long n) {
        evictions.add(n);
    }

    public long lookups() { return lookups.sum(); }
    public long hits() { return hits.sum(); }
    public long neuronsLoaded() { return neuronsLoaded.sum(); }
    public long bytesRead() { return bytesRead.sum(); }
    public long reads() { return reads.sum(); }
    /** Sum of the latencies of all reads, nanoseconds (mean = readNanos / reads). */
    public long readNanos() { return readNanos.sum(); }
    public long evictions() { return evictions.sum(); }

    @Override
    public String toString() {
        return "lookups=" + lookups() + " hits=" + hits() + " loaded=" + neuronsLoaded() + " bytesRead=" + bytesRead()
                + " reads=" + reads() + " readNanos=" + readNanos() + " evictions=" + evictions();
    }
}
