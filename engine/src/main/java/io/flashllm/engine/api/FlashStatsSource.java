package io.flashllm.engine.api;

import java.util.Optional;

/** Implemented by a model that may read its FFN from flash; the server publishes the stats it offers. */
public interface FlashStatsSource {
    /** The flash store's counters, or empty when the whole model sits in DRAM. */
    Optional<FlashStats> flashStats();
}
