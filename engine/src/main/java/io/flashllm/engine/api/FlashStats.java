package io.flashllm.engine.api;

import java.util.List;
import java.util.OptionalDouble;
import java.util.function.LongSupplier;

/**
 * A read-only view of a flash-backed model's counters, for whoever publishes metrics (the server
 * binds it to Micrometer). Every method reads counters the flash store keeps anyway, so calling
 * them costs the hot path nothing; values are monotonic unless said otherwise and may be read from
 * any thread while tokens are being generated.
 */
public interface FlashStats {
    /** FFN layers served from flash. */
    int layers();

    /** FFN neurons a token needed at {@code layer}, summed over tokens. */
    long lookups(int layer);

    /** Of {@link #lookups}, those found in the DRAM neuron cache. */
    long hits(int layer);

    /** Neurons read from flash at {@code layer} (into the cache or through the stream buffer). */
    long neuronsLoaded(int layer);

    /**
     * Of {@link #neuronsLoaded}, those read ahead of need on the selector's guess at the layer
     * (gate-exact's next-layer guess); 0 where nothing is read ahead that way.
     */
    default long readAhead(int layer) {
        return 0;
    }

    /** Neurons dropped from {@code layer}'s cache (window expired or room needed). */
    long evictions(int layer);

    /** Bytes read from flash, all layers. */
    long bytesRead();

    /** Reads issued to flash, all layers (one per coalesced run of neuron groups). */
    long reads();

    /**
     * Where the FFN's time went, summed over layers and tokens (nanoseconds, monotonic): choosing the
     * neurons (the gate product or the predictor), blocked on flash reads that compute could not
     * hide, and computing the selected neurons. Zeros when the store does not time its phases.
     */
    default FfnPhases ffnPhases() {
        return new FfnPhases(0, 0, 0);
    }

    /** See {@link #ffnPhases()}. */
    record FfnPhases(long selectNanos, long waitNanos, long computeNanos) {}

    /** Latency of single flash reads as fixed buckets, all layers. */
    ReadLatency readLatency();

    /** The DRAM regions the runtime sets aside, with what each holds now. */
    List<MemoryRegion> memoryRegions();

    /**
     * Recall of the sparsity predictor (share of truly active neurons it selected) over the
     * (token, layer) pairs checked since the model was loaded, or empty when the model runs no
     * predictor (NaN while nothing with an active neuron was checked yet).
     */
    OptionalDouble predictorRecall();

    /**
     * The sparsity predictor's neuron counts over the checked (token, layer) pairs, monotonic (so a
     * windowed recall is a ratio of increases), or empty when the model runs no predictor.
     */
    default java.util.Optional<PredictorChecks> predictorChecks() {
        return java.util.Optional.empty();
    }

    /**
     * @param samples        (token, layer) pairs checked against the exact mask
     * @param truePositives  truly active neurons the predictor selected
     * @param falseNegatives truly active neurons it missed (their FFN contribution was lost)
     * @param falsePositives neurons it selected that were not active (read and computed for nothing)
     */
    record PredictorChecks(long samples, long truePositives, long falseNegatives, long falsePositives) {}

    /**
     * A snapshot of the read-latency histogram.
     *
     * @param upperBoundsSeconds ascending bucket bounds, the last one {@code +Inf}
     * @param counts             reads per bucket (not cumulative), same length as the bounds
     * @param sumSeconds         total latency of all reads
     */
    record ReadLatency(double[] upperBoundsSeconds, long[] counts, double sumSeconds) {
        public ReadLatency {
            if (upperBoundsSeconds.length != counts.length || upperBoundsSeconds.length == 0
                    || upperBoundsSeconds[upperBoundsSeconds.length - 1] != Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("bucket bounds and counts must pair up and end with +Inf");
            }
        }

        /** Reads counted, the sum of the buckets (so it agrees with the +Inf bucket). */
        public long count() {
            long n = 0;
            for (long c : counts) n += c;
            return n;
        }
    }

    /**
     * One DRAM region.
     *
     * @param name   metric label: resident, kv_cache, io_buffers, stream, overhead, hot, window
     * @param budget bytes set aside for the region (the memory-budget split, or the allocated capacity without a budget)
     * @param used   bytes the region holds now, or null where the store cannot see it (KV cache, overhead)
     */
    record MemoryRegion(String name, LongSupplier budget, LongSupplier used) {}
}
