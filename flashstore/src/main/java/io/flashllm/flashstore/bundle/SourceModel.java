package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.WeightTensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A model the converter reads: its tensors, and how to write its resident part (every tensor but
 * the excluded FFN ones, plus config and tokenizer) in its own format so the normal loader reads it.
 */
public interface SourceModel extends AutoCloseable {
    /** "gguf" or "hf". */
    String kind();

    String name();

    String architecture();

    List<String> tensorNames();

    WeightTensor tensor(String name);

    /** The FFN activation the model's own files declare, or null when they do not say. */
    FfnActivation declaredActivation();

    /** Where the tokenizer will be found in the bundle. */
    Manifest.Tokenizer tokenizer();

    /**
     * Writes the resident part into {@code dir} and returns the files written with their sections
     * (paths relative to {@code dir}). Every file must be forced to disk before returning.
     */
    List<Manifest.FileEntry> writeResident(Path dir, Set<String> excluded) throws IOException;

    @Override
    void close();
}
