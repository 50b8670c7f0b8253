package io.flashllm.server.cli;

import io.flashllm.flashstore.budget.MemorySize;
import io.flashllm.flashstore.budget.RuntimeOverhead;
import io.flashllm.flashstore.bundle.BundleOpenOptions;

/**
 * The flash-bundle options as the CLI commands (generate, bench, calibrate, perplexity) and
 * {@code flashllm serve} take them, turned into {@link BundleOpenOptions}: one place for both.
 */
public final class FlashBundleOptions {
    private FlashBundleOptions() {}

    /**
     * @param memoryBudget        DRAM budget for the whole model as typed (600M, 1.5G, 4096); null or blank: no limit
     * @param window              tokens a used neuron stays cached; null: the default
     * @param selector            auto, dense, gate-exact or predicted; null or blank: auto
     * @param directIo            false reads through the page cache instead of O_DIRECT
     * @param predictorSampleRate share in [0, 1] as typed; null or blank: automatic
     * @throws IllegalArgumentException with a message {@code "<setting>: <what is wrong>"}, the setting
     *                                  named as in the YAML file (memory-budget, window, predictor-sample-rate, io-depth,
     *                                  prefetch-guesses)
     */
    public static BundleOpenOptions of(String memoryBudget, Integer window, String selector, boolean directIo,
                                       String predictorSampleRate) {
        return of(memoryBudget, window, selector, directIo, predictorSampleRate, null);
    }

    /** As above, with {@code ioDepth} reads in flight at once (null: automatic). */
    public static BundleOpenOptions of(String memoryBudget, Integer window, String selector, boolean directIo,
                                       String predictorSampleRate, Integer ioDepth) {
        return of(memoryBudget, window, selector, directIo, predictorSampleRate, ioDepth, false);
    }

    /**
     * As above; {@code server} reserves the server's larger runtime share of the budget (Vert.x, Netty
     * and Micrometer beside the engine: {@link RuntimeOverhead}).
     */
    public static BundleOpenOptions of(String memoryBudget, Integer window, String selector, boolean directIo,
                                       String predictorSampleRate, Integer ioDepth, boolean server) {
        return of(memoryBudget, window, selector, directIo, predictorSampleRate, ioDepth, server, null);
    }

    /**
     * As above, with gate-exact reading {@code prefetchGuesses} of the next layer's likeliest neurons
     * ahead on a guess (null: the default, {@code BundleFfnOptions.DEFAULT_PREFETCH_GUESSES}).
     */
    public static BundleOpenOptions of(String memoryBudget, Integer window, String selector, boolean directIo,
                                       String predictorSampleRate, Integer ioDepth, boolean server, Integer prefetchGuesses) {
        BundleOpenOptions bundle = BundleOpenOptions.defaults().withPreferDirect(directIo)
                .withOverhead(RuntimeOverhead.forThisJvm(server));
        if (memoryBudget != null && !memoryBudget.isBlank()) {
            long bytes;
            try {
                bytes = MemorySize.parse(memoryBudget.trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("memory-budget: " + e.getMessage(), e);
            }
            bundle = bundle.withMemoryBudget(bytes, 0);
        }
        if (window != null) {
            if (window < 0) throw new IllegalArgumentException("window: must not be negative, got " + window);
            bundle = bundle.withWindow(window);
        }
        if (selector != null && !selector.isBlank()) bundle = bundle.withSelector(selector.trim());
        if (ioDepth != null) {
            if (ioDepth < 1 || ioDepth > BundleOpenOptions.MAX_IO_DEPTH) {
                throw new IllegalArgumentException("io-depth: must be between 1 and " + BundleOpenOptions.MAX_IO_DEPTH
                        + ", got " + ioDepth);
            }
            bundle = bundle.withIoDepth(ioDepth);
        }
        if (prefetchGuesses != null) {
            if (prefetchGuesses < 0 || prefetchGuesses > BundleOpenOptions.MAX_PREFETCH_GUESSES) {
                throw new IllegalArgumentException("prefetch-guesses: must be between 0 and "
                        + BundleOpenOptions.MAX_PREFETCH_GUESSES + ", got " + prefetchGuesses);
            }
            bundle = bundle.withPrefetchGuesses(prefetchGuesses);
        }
        if (predictorSampleRate != null && !predictorSampleRate.isBlank()) {
            String rate = predictorSampleRate.trim();
            double r;
            try {
                r = Double.parseDouble(rate);
            } catch (NumberFormatException e) {
                r = Double.NaN;
            }
            if (!(r >= 0 && r <= 1)) {
                throw new IllegalArgumentException("predictor-sample-rate: must be a number in [0, 1], got '" + rate + "'");
            }
            bundle = bundle.withPredictorSampleRate(r);
        }
        return bundle;
    }
}
