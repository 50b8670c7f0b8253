package io.flashllm.engine.model;

/**
 * The device's logits for a sequence's first token disagree with the CPU's: its kernels are wrong
 * for this model (or the runtime ran something else). The backend is switched off for the model.
 */
public final class DeviceMismatchException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public DeviceMismatchException(String message) {
        super(message);
    }
}
