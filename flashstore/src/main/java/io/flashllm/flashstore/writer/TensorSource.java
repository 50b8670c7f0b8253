package io.flashllm.flashstore.writer;

import java.io.IOException;

/**
 * Produces one tensor's bytes when the writer reaches it, so a whole model is never held in
 * memory: the writer calls {@link #writeTo} once, in file order, and checks the byte count.
 */
@FunctionalInterface
public interface TensorSource {
    void writeTo(SequentialOutput out) throws IOException;
}
