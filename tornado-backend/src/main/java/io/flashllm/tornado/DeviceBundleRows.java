package io.flashllm.tornado;

import io.flashllm.flashstore.bundle.CachedRowsCompute;
import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.WeightTensor;

/**
 * A flash bundle's FFN on the device: one {@link DeviceNeuronCache} per layer, made on the layer's
 * first token, fed by the bundle FFN's own selection and reads (flash → DRAM cache → device, only
 * changed rows crossing the bus).
 */
final class DeviceBundleRows implements CachedRowsCompute, AutoCloseable {
    /** Rows per upload round: enough for a token's new neurons in a round or two on a small model. */
    static final int STAGE_ROWS = 256;

    private final FfnActivation activation;
    private final DeviceNeuronCache[] layers;
    private final float[] partial;

    DeviceBundleRows(FfnActivation activation, int layers, int dim) {
        this.activation = activation;
        this.layers = new DeviceNeuronCache[layers];
        this.partial = new float[dim];
    }

    @Override
    public void accumulate(int layer, NeuronCache cache, float[] gatePre, WeightTensor residentGate, float[] upBias,
                           float[] x, float[] out) {
        if (layers[layer] == null) {
            layers[layer] = DeviceNeuronCache.forBundle(cache, activation, Math.min(STAGE_ROWS, cache.capacity()));
        }
        layers[layer].forward(cache, gatePre, residentGate, upBias, x, partial);
        for (int i = 0; i < partial.length; i++) out[i] += partial[i];
    }

    /** Rows sent to the device over all layers. */
    long rowsSent() {
        long n = 0;
        for (DeviceNeuronCache d : layers) n += d == null ? 0 : d.rowsSent();
        return n;
    }

    @Override
    public void close() {
        for (DeviceNeuronCache d : layers) {
            if (d != null) d.close();
        }
    }
}
