package io.flashllm.engine.api;

import java.util.Optional;

/** A model that can report its experts' paging, when it is a mixture of experts. */
public interface ExpertStatsSource {
    /** The experts' counters, or empty when the model has no experts. */
    Optional<ExpertStats> expertStats();
}
