package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.DenseFeedForward;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.kernels.Parallel;

/**
 * Builds the FFN a model runs: dense over the mapped weights by default; the flash-bundle loader
 * supplies one that reads neurons from flash through the neuron cache.
 */
@FunctionalInterface
public interface FeedForwardFactory {
    FeedForward create(ModelConfig config, ModelWeights weights, Parallel parallel);

    FeedForwardFactory DENSE = (config, weights, parallel) ->
            new DenseFeedForward(config.activation(), weights.ffn(), parallel);
}
