package io.flashllm.flashstore;

import java.nio.file.Path;

/**
 * A model file (GGUF, safetensors, HF directory, bundle) cannot be used: it is truncated, malformed
 * or uses something flashllm does not support. The message always names the file and the fault, so
 * a user can act on it without a stack trace.
 */
public class ModelFileException extends RuntimeException {
    private final transient Path file;
    private final String fault;

    public ModelFileException(Path file, String fault) {
        super(file + ": " + fault);
        this.file = file;
        this.fault = fault;
    }

    public ModelFileException(Path file, String fault, Throwable cause) {
        super(file + ": " + fault, cause);
        this.file = file;
        this.fault = fault;
    }

    /** The file (or directory) at fault. */
    public Path file() {
        return file;
    }

    /** What is wrong with it, without the file name. */
    public String fault() {
        return fault;
    }
}
