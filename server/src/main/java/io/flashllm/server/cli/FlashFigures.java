package io.flashllm.server.cli;

import io.flashllm.engine.api.FlashStats;

/**
 * What the flash store did between two snapshots of its counters: the figures a user tunes the
 * memory budget and window by (DESIGN.md §1's cost model: time per token ≈ bytes read ÷ flash
 * throughput). Counters are summed over layers; {@code tokens} is how many forward passes the
 * interval covered, so the per-token figures are per token over all layers.
 */
record FlashFigures(long tokens, long lookups, long hits, long neuronsLoaded, long readAhead, long bytesRead, long reads,
                    double readSeconds, long selectNanos, long waitNanos, long computeNanos) {

    static Snapshot snapshot(FlashStats s) {
        long lookups = 0, hits = 0, loaded = 0, ahead = 0;
        for (int l = 0; l < s.layers(); l++) {
            lookups += s.lookups(l);
            hits += s.hits(l);
            loaded += s.neuronsLoaded(l);
            ahead += s.readAhead(l);
        }
        FlashStats.FfnPhases p = s.ffnPhases();
        return new Snapshot(lookups, hits, loaded, ahead, s.bytesRead(), s.reads(), s.readLatency().sumSeconds(),
                p.selectNanos(), p.waitNanos(), p.computeNanos());
    }

    /** Raw counter values at one moment. */
    record Snapshot(long lookups, long hits, long neuronsLoaded, long readAhead, long bytesRead, long reads, double readSeconds,
                    long selectNanos, long waitNanos, long computeNanos) {
        FlashFigures since(Snapshot before, long tokens) {
            return new FlashFigures(tokens, lookups - before.lookups, hits - before.hits,
                    neuronsLoaded - before.neuronsLoaded, readAhead - before.readAhead, bytesRead - before.bytesRead, reads - before.reads,
                    readSeconds - before.readSeconds, selectNanos - before.selectNanos,
                    waitNanos - before.waitNanos, computeNanos - before.computeNanos);
        }
    }

    FlashFigures plus(FlashFigures o) {
        return new FlashFigures(tokens + o.tokens, lookups + o.lookups, hits + o.hits,
                neuronsLoaded + o.neuronsLoaded, readAhead + o.readAhead, bytesRead + o.bytesRead, reads + o.reads, readSeconds + o.readSeconds,
                selectNanos + o.selectNanos, waitNanos + o.waitNanos, computeNanos + o.computeNanos);
    }

    static final FlashFigures NONE = new FlashFigures(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** Milliseconds per token of a phase's nanoseconds (NaN without tokens). */
    double millisPerToken(long nanos) {
        return tokens == 0 ? Double.NaN : nanos / 1e6 / tokens;
    }

    /** Share of the neurons a token needed that were already in the DRAM cache (NaN if none were needed). */
    double hitRate() {
        return lookups == 0 ? Double.NaN : (double) hits / lookups;
    }

    double perToken(long v) {
        return tokens == 0 ? Double.NaN : (double) v / tokens;
    }

    /** Mean latency of one read in milliseconds (NaN without reads). */
    double meanReadMillis() {
        return reads == 0 ? Double.NaN : readSeconds * 1e3 / reads;
    }
}
