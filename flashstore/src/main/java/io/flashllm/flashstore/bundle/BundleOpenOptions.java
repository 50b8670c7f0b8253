package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;

/**
 * How to open a bundle.
 *
 * @param selector       "auto" (gate-exact when the gates are resident and the activation is
 *                       ReLU-family, else dense), "dense" or "gate-exact"
 * @param activation     overrides the manifest's activation (e.g. a FATReLU threshold); null = manifest
 * @param memoryBudget   DRAM budget in bytes for everything; 0 = no limit (cache holds every neuron)
 * @param kvCacheBytes   what the KV cache will take, counted against the budget
 * @param overheadBytes  fixed runtime costs kept out of the budget's cache share
 * @param hotFraction    share of the neuron cache pinned for the most active neurons
 * @param window         tokens a used neuron stays cached
 * @param ioThreads      reads in flight
 * @param verify         checks at open (see {@link Verify})
 * @param preferDirect   read bundles with O_DIRECT where the file system allows
 * @param hotWarmupTokens tokens counted before the hot region is chosen
 */
public record BundleOpenOptions(String selector, FfnActivation activation, long memoryBudget, long kvCacheBytes,
                                long overheadBytes, double hotFraction, int window, int ioThreads, Verify verify,
                                boolean preferDirect, int hotWarmupTokens) {
    /**
     * NONE: manifest and file sizes only. QUICK (default): plus the CRC of every resident section and
     * of the FFN headers and CRC tables; FFN groups are checked as they are read. FULL: plus every FFN
     * group up front.
     */
    public enum Verify { NONE, QUICK, FULL }

    public static BundleOpenOptions defaults() {
        return new BundleOpenOptions("auto", null, 0, 0, 64L << 20, 0.25, BundleFfnOptions.DEFAULT_WINDOW, 16,
                Verify.QUICK, true, 32);
    }

    public BundleOpenOptions withSelector(String s) {
        return new BundleOpenOptions(s, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioThreads, verify, preferDirect, hotWarmupTokens);
    }

    public BundleOpenOptions withActivation(FfnActivation a) {
        return new BundleOpenOptions(selector, a, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioThreads, verify, preferDirect, hotWarmupTokens);
    }

    public BundleOpenOptions withMemoryBudget(long bytes, long kvBytes) {
        return new BundleOpenOptions(selector, activation, bytes, kvBytes, overheadBytes, hotFraction, window, ioThreads, verify, preferDirect, hotWarmupTokens);
    }

    public BundleOpenOptions withOverhead(long bytes) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, bytes, hotFraction, window, ioThreads, verify, preferDirect, hotWarmupTokens);
    }

    public BundleOpenOptions withHotFraction(double f) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, f, window, ioThreads, verify, preferDirect, hotWarmupTokens);
    }

    public BundleOpenOptions withWindow(int k) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, k, ioThreads, verify, preferDirect, hotWarmupTokens);
    }

    public BundleOpenOptions withIoThreads(int n) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, n, verify, preferDirect, hotWarmupTokens);
    }

    public BundleOpenOptions withVerify(Verify v) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioThreads, v, preferDirect, hotWarmupTokens);
    }

    public BundleOpenOptions withPreferDirect(boolean d) {
        return new BundleOpenOptions(selector, activation, memoryBudget, kvCacheBytes, overheadBytes, hotFraction, window, ioThreads, verify, d, hotWarmupTokens);
    }
}
