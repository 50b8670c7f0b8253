package io.flashllm.engine;

import io.flashllm.flashstore.bundle.BundleException;
import io.flashllm.flashstore.bundle.SelectorContext;
import io.flashllm.flashstore.bundle.SelectorProvider;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.predictor.PredictorException;
import io.flashllm.predictor.runtime.PredictedSelectors;

import java.nio.file.Path;

/**
 * Plugs the learned {@code predicted} selector (sparsity-predictor) into bundles: flashstore
 * cannot depend on the predictor module, so the loader hands this provider to every bundle it opens.
 */
final class PredictorSelectorProvider implements SelectorProvider {
    static final String NAME = "predicted";
    static final PredictorSelectorProvider INSTANCE = new PredictorSelectorProvider();

    private PredictorSelectorProvider() {}

    @Override
    public NeuronSelector open(String name, SelectorContext c) {
        if (!NAME.equals(name)) return null;
        try {
            return PredictedSelectors.open(c.dir(), c.manifest(), c.activation(), c.residentTensor(), c.parallel(),
                    c.probe() ? 0 : c.sampleRate());
        } catch (PredictorException e) {
            Path file = e.file() != null ? e.file() : c.dir();
            String prefix = file + ": ";
            String fault = e.getMessage().startsWith(prefix) ? e.getMessage().substring(prefix.length()) : e.getMessage();
            throw new BundleException(file, fault, e);
        }
    }
}
