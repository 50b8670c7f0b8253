package io.flashllm.engine.api;

/**
 * A read-only view of a mixture of experts' paging counters, for whoever publishes metrics (the server
 * binds it to Micrometer). Values are monotonic unless said otherwise and may be read from any thread while
 * tokens are being generated.
 */
public interface ExpertStats {
    /** Layers with experts. */
    int layers();

    /** Experts the passes of {@code layer} used (a prompt batch counts each of its experts once). */
    long lookups(int layer);

    /**
     * Of {@link #lookups}, experts whose first page was out of DRAM when needed, so read from the model file
     * (an expert that kept its first page and lost the rest counts as in DRAM).
     */
    long misses(int layer);

    /**
     * Of {@link #misses}, experts read before {@code layer}'s router chose them, while a prompt batch ran the layer
     * before (a batch that picks nearly every expert; one the router then leaves out is a miss without a lookup).
     */
    long readAhead(int layer);

    /** Experts of {@code layer} paged out to keep to the memory budget. */
    long pageOuts(int layer);

    /** Bytes the experts may take under the memory budget; 0 without one (not monotonic). */
    long budgetBytes();

    /** Bytes of the experts counted in DRAM under the budget now; 0 without one (not monotonic). */
    long usedBytes();
}
