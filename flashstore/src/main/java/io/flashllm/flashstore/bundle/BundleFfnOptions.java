package io.flashllm.flashstore.bundle;

/**
 * Runtime knobs of the bundle FFN.
 *
 * @param window            tokens a used neuron stays cached (the paper's k; default 5)
 * @param cacheRowsPerLayer neuron cache rows per layer, hot region included (from the memory budget)
 * @param hotRowsPerLayer   rows per layer pinned for the most frequently active neurons
 * @param hotWarmupTokens   tokens counted before the hot region is chosen, and between its re-choices
 * @param streamRows        rows of the shared stream buffer for neurons that do not fit the cache
 * @param coalesceGapGroups unwanted groups a read may span to merge two wanted ones
 * @param verifyReads       check every group read against its CRC32C
 * @param prefetch          read the next layer's likely neurons while this layer computes
 * @param selectChunks      ranges a chunk-capable selector (gate-exact) chooses neurons in, one at a time, so the
 *                          misses of one range are read from flash while the next range is chosen (1: all at once)
 * @param halfLife          when the cache is full, which neuron makes room: the one with the least activity,
 *                          counted with this half-life in tokens, and a miss less active than every candidate is
 *                          streamed instead of cached ({@link io.flashllm.flashstore.cache.NeuronCache}); 0: the least
 *                          recently used, always cached
 * @param prefetchGuesses   with a selector that guesses the next layer's gate values (gate-exact), how many of
 *                          that layer's likeliest uncached neurons to read ahead while this layer computes (0: none)
 * @param guessPays         the guess, a second gate product, is made for a layer only while the layer's recent
 *                          wait on flash is at least this many times what the guess costs (both measured, per
 *                          layer); 0: always
 * @param windowFloor       with a selector that knows every neuron's gate value (gate-exact), the window is a floor:
 *                          neurons past it stay cached while there is room, and give way first when there is not
 *                          ({@link io.flashllm.flashstore.cache.NeuronCache#keepPastWindow}); other selectors compute
 *                          every cached row, so for them the window always evicts
 */
public record BundleFfnOptions(int window, int cacheRowsPerLayer, int hotRowsPerLayer, int hotWarmupTokens,
                               int streamRows, int coalesceGapGroups, boolean verifyReads, boolean prefetch,
                               int selectChunks, int halfLife, int prefetchGuesses, double guessPays,
                               boolean windowFloor) {
    public static final int DEFAULT_WINDOW = 5;
    /**
     * Four ranges: the first range's reads start after a quarter of the gate product, and each
     * range still has enough misses to keep the flash queue full.
     */
    public static final int DEFAULT_SELECT_CHUNKS = 4;
    public static final int MAX_SELECT_CHUNKS = 64;
    /**
     * Sixteen tokens: replaying the firing neurons of 400 tokens of the capped run's model through
     * the cache's rules (870 rows per layer; scripts/cache-replay.py), half-lives of 8 to 32 tokens
     * keep 55% of the needed neurons cached, against 44% for least recently used.
     */
    public static final int DEFAULT_HALF_LIFE = 16;
    /**
     * 64 per layer, while the layer waits on flash (see {@link #DEFAULT_GUESS_PAYS}): under the
     * 800 MiB cap they turn 2–6 points of misses into hits, +6% decode over twelve pairs with that rule
     * (+3% guessing at every layer; docs/benchmarks.md §4, sessions 19–20); 96 read more than they saved.
     */
    public static final int DEFAULT_PREFETCH_GUESSES = 64;
    /**
     * Twice: on two cores, guessing at every layer (~0.9 ms a layer on the 1.1B) paid where a layer
     * waited ~3.6 ms (the 800 MiB cap, +3%) and cost where it waited ~1.3 ms (a 4 GiB budget, −8%) or
     * nothing (every neuron cached, −25%); with this rule +6%, +1% and ±0 (docs/benchmarks.md §4,
     * session 20).
     */
    public static final double DEFAULT_GUESS_PAYS = 2.0;

    public BundleFfnOptions {
        if (window < 1) throw new IllegalArgumentException("window must be >= 1");
        if (cacheRowsPerLayer < 0 || hotRowsPerLayer < 0 || hotRowsPerLayer > cacheRowsPerLayer) {
            throw new IllegalArgumentException("hot rows (" + hotRowsPerLayer + ") must be within the cache rows (" + cacheRowsPerLayer + ")");
        }
        if (streamRows < 1) throw new IllegalArgumentException("streamRows must be >= 1");
        if (coalesceGapGroups < 0) throw new IllegalArgumentException("coalesceGapGroups must be >= 0");
        if (selectChunks < 1 || selectChunks > MAX_SELECT_CHUNKS) {
            throw new IllegalArgumentException("selectChunks must be between 1 and " + MAX_SELECT_CHUNKS + ", got " + selectChunks);
        }
        if (!(guessPays >= 0) || Double.isInfinite(guessPays)) {
            throw new IllegalArgumentException("guessPays must be a finite ratio >= 0, got " + guessPays);
        }
        if (prefetchGuesses < 0) throw new IllegalArgumentException("prefetchGuesses must be >= 0, got " + prefetchGuesses);
        if (halfLife < 0) throw new IllegalArgumentException("halfLife must be >= 0 tokens (0: least recently used), got " + halfLife);
    }

    /** Cache sized to hold every neuron, default window, no hot region. */
    public static BundleFfnOptions unlimited(int neuronsPerLayer) {
        return new BundleFfnOptions(DEFAULT_WINDOW, neuronsPerLayer, 0, 0, 1024, 0, true, true, DEFAULT_SELECT_CHUNKS,
                DEFAULT_HALF_LIFE, DEFAULT_PREFETCH_GUESSES, DEFAULT_GUESS_PAYS, true);
    }

    public BundleFfnOptions withCache(int rows, int hotRows) {
        return new BundleFfnOptions(window, rows, hotRows, hotWarmupTokens, streamRows, coalesceGapGroups, verifyReads, prefetch, selectChunks, halfLife, prefetchGuesses, guessPays, windowFloor);
    }

    public BundleFfnOptions withWindow(int k) {
        return new BundleFfnOptions(k, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, streamRows, coalesceGapGroups, verifyReads, prefetch, selectChunks, halfLife, prefetchGuesses, guessPays, windowFloor);
    }

    public BundleFfnOptions withStreamRows(int rows) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, rows, coalesceGapGroups, verifyReads, prefetch, selectChunks, halfLife, prefetchGuesses, guessPays, windowFloor);
    }

    public BundleFfnOptions withHotWarmup(int tokens) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, tokens, streamRows, coalesceGapGroups, verifyReads, prefetch, selectChunks, halfLife, prefetchGuesses, guessPays, windowFloor);
    }

    public BundleFfnOptions withCoalesceGap(int groups) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, streamRows, groups, verifyReads, prefetch, selectChunks, halfLife, prefetchGuesses, guessPays, windowFloor);
    }

    public BundleFfnOptions withPrefetch(boolean on) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, streamRows, coalesceGapGroups, verifyReads, on, selectChunks, halfLife, prefetchGuesses, guessPays, windowFloor);
    }

    public BundleFfnOptions withSelectChunks(int n) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, streamRows, coalesceGapGroups, verifyReads, prefetch, n, halfLife, prefetchGuesses, guessPays, windowFloor);
    }

    public BundleFfnOptions withPrefetchGuesses(int n) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, streamRows, coalesceGapGroups, verifyReads, prefetch, selectChunks, halfLife, n, guessPays, windowFloor);
    }

    public BundleFfnOptions withHalfLife(int tokens) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, streamRows, coalesceGapGroups, verifyReads, prefetch, selectChunks, tokens, prefetchGuesses, guessPays, windowFloor);
    }

    public BundleFfnOptions withWindowFloor(boolean on) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, streamRows, coalesceGapGroups, verifyReads, prefetch, selectChunks, halfLife, prefetchGuesses, guessPays, on);
    }

    public BundleFfnOptions withGuessPays(double ratio) {
        return new BundleFfnOptions(window, cacheRowsPerLayer, hotRowsPerLayer, hotWarmupTokens, streamRows, coalesceGapGroups, verifyReads, prefetch, selectChunks, halfLife, prefetchGuesses, ratio, windowFloor);
    }
}
