package io.flashllm.flashstore.cache;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LayerCountersTest {
    @Test
    void countsAndLatencyBuckets() {
        LayerCounters c = new LayerCounters();
        c.lookups(10, 7);
        c.loaded(3);
        c.evicted(2);
        c.read(4096, 1_000);       // 1 µs → bucket 0
        c.read(8192, 1_500);       // 2 µs → bucket 1
        c.read(8192, 100_000);     // 100 µs → bucket 7 (≤ 128 µs)
        c.read(8192, 10_000_000_000L); // 10 s → last bucket
        assertEquals(10, c.lookups());
        assertEquals(7, c.hits());
        assertEquals(3, c.neuronsLoaded());
        assertEquals(2, c.evictions());
        assertEquals(4, c.reads());
        assertEquals(4096 + 3 * 8192, c.bytesRead());
        assertEquals(1, c.latencyCount(0));
        assertEquals(1, c.latencyCount(1));
        assertEquals(1, c.latencyCount(7));
        assertEquals(1, c.latencyCount(LayerCounters.LATENCY_BUCKETS - 1));
        assertEquals(128e-6, LayerCounters.latencyBucketSeconds(7), 1e-12);
    }
}
