package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.budget.RuntimeOverhead;
import io.flashllm.flashstore.ffn.FfnActivation;

/**
 * How to open a bundle.
 *
 * @param selector       "auto" (gate-exact when the gates are resident and the activation is
 *                       ReLU-family, else dense), "dense", "gate-exact", or a name {@code selectors}
 *                       knows ("predicted" once the engine registers the predictor module)
 * @param activation     overrides the manifest's activation (e.g. a FATReLU threshold); null = manifest
 * @param memoryBudget   DRAM budget in bytes for everything; 0 = no limit (cache holds every neuron)
 * @param kvCacheBytes   what the KV cache will take, counted against the budget
 * @param overheadBytes  the JVM's memory beside the heap ({@link RuntimeOverhead}), kept out of the budget's cache share
 * @param hotFraction    share of the neuron cache pinned for the most active neurons
 * @param window         tokens a used neuron stays cached
 * @param ioDepth        reads in flight at once; 0 = {@link #autoNativeAioDepth} with Linux native AIO,
 *                       {@link #AUTO_IO_DEPTH_THREADS} where reads fall back to blocking threads
 * @param verify         checks at open (see {@link Verify})
 * @param preferDirect   read bundles with O_DIRECT where the file system allows
 * @param hotWarmupTokens tokens counted before the hot region is chosen
 * @param selectors      builds selectors this package does not know (e.g. predicted), or null
 * @param predictorSampleRate share of (token, layer) pairs a learned selector checks against the exact
 *                       mask, for its recall counters (0 = none); negative = {@link #AUTO_SAMPLE_RATE}
 * @param prefetchGuesses with gate-exact, how many of the next layer's likeliest uncached neurons to read
 *                       ahead on a guess while this layer computes, for layers that wait on flash (0 = none;
 *                       default {@link BundleFfnOptions#DEFAULT_PREFETCH_GUESSES})
 */
public record BundleOpenOptions(String selector, FfnActivation activation, long memoryBudget, long kvCacheBytes,
                                long overheadBytes, double hotFraction, int window, int ioDepth, Verify verify,
                                boolean preferDirect, int hotWarmupTokens, SelectorProvider selectors,
                                double predictorSampleRate, int prefetchGuesses) {
    /** Checks the sample rate. */
    public BundleOpenOptions {
        if (ioDepth < 0 || ioDepth > MAX_IO_DEPTH) {
            throw new IllegalArgumentException("I/O depth must be in [0, " + MAX_IO_DEPTH + "] (0: automatic), got " + ioDepth);
        }
        if (!(predictorSampleRate <= 1) || predictorSampleRate < 0 && predictorSampleRate != AUTO_SAMPLE_RATE) {
            throw new IllegalArgumentException("predictor sample rate must be in [0, 1], got " + predictorSampleRate);
        }
        if (prefetchGuesses < 0 || prefetchGuesses > MAX_PREFETCH_GUESSES) {
            throw new IllegalArgumentException("prefetch guesses must be in [0, " + MAX_PREFETCH_GUESSES + "], got " + prefetchGuesses);
        }
    }

    /**
     * Reads in flight with native AIO. The decode of a 90%-sparse 1.1B under an 800 MiB cap issues
     * ~420 one-neuron reads per layer at once; native AIO at depth 32, 64, 128, 256 gave 5.3, 6.3,
     * 7.0, 6.9 tok/s there, 16 blocking threads 5.9 (docs/benchmarks.md §4): deep enough that the
     * device, not the queue, sets the pace (fio: 90–99k 8 KiB reads/s at depth 32–64 on that machine kind).
     * Since the layer's own thread submits its reads (session 27), a deeper queue takes a layer's
     * ~200 reads in one go instead of the rest waiting for a slot: see {@link #autoNativeAioDepth}.
     */
    public static final int AUTO_IO_DEPTH_NATIVE_AIO = 128;

    /**
     * Twice {@link #AUTO_IO_DEPTH_NATIVE_AIO} where one-neuron groups are small enough (≤ 16 KiB)
     * that the read buffers stay within the same 4 MiB: faster in 6 of 6 alternated capped pairs, median +7%
     * (docs/benchmarks.md §4, session 28). Larger groups keep 128.
     */
    public static final int AUTO_IO_DEPTH_SMALL_GROUPS = 256;

    /** The automatic native-AIO depth for a bundle whose groups are {@code groupBytes} long. */
    public static int autoNativeAioDepth(long groupBytes) {
        return groupBytes <= (4L << 20) / AUTO_IO_DEPTH_SMALL_GROUPS ? AUTO_IO_DEPTH_SMALL_GROUPS : AUTO_IO_DEPTH_NATIVE_AIO;
    }

    /** Reads in flight when each needs its own blocking thread (more threads would crowd two cores). */
    public static final int AUTO_IO_DEPTH_THREADS = 16;

    /** A bound that turns away absurd values; useful ones are tens (64 is the default). */
    public static final int MAX_PREFETCH_GUESSES = 1 << 16;

    /** io_setup's context and one buffer per read in flight: keep it sane. */
    public static final int MAX_IO_DEPTH = 1024;

    /**
     * The share of (token, layer) pairs a predictor checks when the gates are resident: a check
     * costs one gate matvec, cheap, and 2% is plenty for a recall gauge.
     */
    public static final double DEFAULT_PREDICTOR_SAMPLE_RATE = 0.02;

    /**
     * Sample rate "automatic": {@link #DEFAULT_PREDICTOR_SAMPLE_RATE} when the gates are resident,
     * else 0, since a check would read the layer's whole gate (fc1) matrix from flash.
     */
    public static final double AUTO_SAMPLE_RATE = -1;

    /**
     * NONE: manifest and file sizes only. QUICK (default): plus the CRC of every resident section and
     * of the FFN headers and CRC tables; FFN groups are checked as they are read. FULL: plus every FFN
     * group up front.
     */
    public enum Verify { NONE, QUICK, FULL }

    /** Defaults for a command-line run: the runtime reserve is {@link RuntimeOverhead#forThisJvm}{@code (false)}. */
    public static BundleOpenOptions defaults() {
        return new BundleOpenOptions("auto", null, 0, 0, RuntimeOverhead.forThisJvm(false), 0.25, BundleFfnOptions.DEFAULT_WINDOW, 0,
                Verify.QUICK, true, 32, null,
                AUTO_SAMPLE_RATE, BundleFfnOptions.DEFAULT_PREFETCH_GUESSES);
    }

    /** Reads in flight at once (0: automatic, see {@link #autoNativeAioDepth}). */
    public BundleOpenOptions withIoDepth(int depth) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, depth, verify, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withSelector(String s) {
        return new BundleOpenOptions(s, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioDepth, verify, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withActivation(FfnActivation a) {
        return new BundleOpenOptions(selector, a, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioDepth, verify, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withMemoryBudget(long bytes, long kvBytes) {
        return new BundleOpenOptions(selector, activation, bytes, kvBytes, overheadBytes, hotFraction, window, ioDepth, verify, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withOverhead(long bytes) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, bytes, hotFraction, window, ioDepth, verify, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withHotFraction(double f) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, f, window, ioDepth, verify, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withWindow(int k) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, k, ioDepth, verify, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withVerify(Verify v) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioDepth, v, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withPreferDirect(boolean d) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioDepth, verify, d, hotWarmupTokens, selectors, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withSelectors(SelectorProvider p) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioDepth, verify, preferDirect, hotWarmupTokens, p, predictorSampleRate, prefetchGuesses);
    }

    public BundleOpenOptions withPredictorSampleRate(double rate) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioDepth, verify, preferDirect, hotWarmupTokens, selectors, rate, prefetchGuesses);
    }

    /** Guessed neurons of the next layer read ahead per layer (gate-exact; 0: none). */
    public BundleOpenOptions withPrefetchGuesses(int n) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioDepth, verify, preferDirect, hotWarmupTokens, selectors, predictorSampleRate, n);
    }
}
