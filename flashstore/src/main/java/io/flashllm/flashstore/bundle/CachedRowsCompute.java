package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.kernels.WeightTensor;

/**
 * Computes a layer's FFN over the rows of its neuron cache somewhere else than the CPU (an
 * accelerator holding a mirror of the cache): {@code out += sum over rows r < cache.used() of
 * act(gate_r·x) (up_r·x + upBias) down_r}. {@link BundleFeedForward} calls it once per token and
 * layer, after every read into the cache has completed; neurons that overflowed into the stream
 * buffer are still computed on the CPU.
 */
public interface CachedRowsCompute {
    /**
     * @param gatePre      gate pre-activations of every neuron when the selector computed them, else null
     * @param residentGate the layer's gate matrix when it stays in DRAM (then the cache has no gate
     *                     rows), else null
     * @param upBias       the layer's up bias by neuron, or null
     */
    void accumulate(int layer, NeuronCache cache, float[] gatePre, WeightTensor residentGate, float[] upBias,
                    float[] x, float[] out);
}
