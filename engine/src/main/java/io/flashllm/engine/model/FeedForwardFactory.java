package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.DenseFeedForward;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.flashstore.ffn.MoeFeedForward;
import io.flashllm.kernels.Parallel;

import java.util.function.UnaryOperator;

/**
 * Builds the FFN a model runs: dense over the mapped weights by default; the flash-bundle loader
 * supplies one that reads neurons from flash through the neuron cache.
 */
@FunctionalInterface
public interface FeedForwardFactory {
    FeedForward create(ModelConfig config, ModelWeights weights, Parallel parallel);

    /**
     * Whether {@link #create} uses the FFN matrices of the model file ({@link ModelWeights#ffn()}).
     * When false the loader neither requires nor maps them: a bundle keeps them on flash.
     */
    default boolean readsFfnWeights() {
        return true;
    }

    /** A factory whose FFN does not use the model file's FFN matrices (they stay on flash). */
    static FeedForwardFactory withoutFfnWeights(FeedForwardFactory factory) {
        return new FeedForwardFactory() {
            @Override
            public FeedForward create(ModelConfig config, ModelWeights weights, Parallel parallel) {
                return factory.create(config, weights, parallel);
            }

            @Override
            public boolean readsFfnWeights() {
                return false;
            }
        };
    }

    /**
     * This factory with its FFN wrapped, e.g. by a recorder of FFN inputs for predictor calibration
     * or by a counter of active neurons; the wrapper sees every {@code forward(layer, x, out)} call.
     */
    default FeedForwardFactory wrappedBy(UnaryOperator<FeedForward> wrapper) {
        FeedForwardFactory inner = this;
        return new FeedForwardFactory() {
            @Override
            public FeedForward create(ModelConfig config, ModelWeights weights, Parallel parallel) {
                return wrapper.apply(inner.create(config, weights, parallel));
            }

            @Override
            public boolean readsFfnWeights() {
                return inner.readsFfnWeights();
            }
        };
    }

    /**
     * The FFN over the mapped file's weights: dense, or a mixture of experts routing among them whose experts
     * keep to {@code expertBudget} bytes of DRAM (0: no limit).
     */
    static FeedForward mapped(ModelConfig config, ModelWeights weights, Parallel parallel, long expertBudget) {
        DenseFeedForward dense = new DenseFeedForward(config.activation(), weights.ffn(), parallel);
        if (!config.experts().moe()) return dense;
        return new MoeFeedForward(config.experts(), weights.routers(), weights.routerBiases(), dense, expertBudget,
                parallel);
    }

    /** All FFN weights in DRAM, used in place from the mapped file; a mixture of experts routes among them. */
    FeedForwardFactory DENSE = new FeedForwardFactory() {
        @Override
        public FeedForward create(ModelConfig config, ModelWeights weights, Parallel parallel) {
            return mapped(config, weights, parallel, 0);
        }

        @Override
        public boolean readsFfnWeights() {
            return true;
        }
    };
}
