package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.select.NeuronSelector;

/**
 * Builds neuron selectors the bundle package does not know itself (the learned {@code predicted}
 * selector lives in sparsity-predictor, which depends on this module, so it is plugged in from
 * outside through {@link BundleOpenOptions#selectors()}).
 */
@FunctionalInterface
public interface SelectorProvider {
    /**
     * Builds the selector called {@code name} over the bundle described by {@code context}, or
     * returns null when this provider does not know the name. A selector that cannot work on this
     * bundle (e.g. its predictors are missing) throws a {@link BundleException} that says what to do.
     * The bundle closes the selector it was given.
     */
    NeuronSelector open(String name, SelectorContext context);
}
