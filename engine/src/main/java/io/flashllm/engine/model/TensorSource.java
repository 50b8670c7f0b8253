package io.flashllm.engine.model;

import io.flashllm.kernels.WeightTensor;

import java.nio.file.Path;

/** Where a model's tensors come from: a GGUF file, an HF directory, a bundle. */
public interface TensorSource {
    /** The tensor called {@code name}, or null when the source has none by that name. */
    WeightTensor tensor(String name);

    /** The file or directory, for error messages. */
    Path path();
}
