package io.flashllm.engine.model;

/**
 * One sequence on a {@link DeviceBackend}: the model's weights on the device and a device-resident
 * KV cache. Tokens go in one at a time, in position order; the logits come back.
 */
public interface DeviceForward extends AutoCloseable {

    /** The device, for logs: e.g. {@code "tornado: OpenCL PoCL cpu"}. */
    String device();

    /**
     * Runs {@code token} at {@code pos} (positions 0..pos-1 already run through this instance) and
     * returns the next-token logits: this instance's buffer, overwritten by the next call.
     */
    float[] forward(int token, int pos);

    /** Frees the device memory of this sequence. */
    @Override
    void close();
}
