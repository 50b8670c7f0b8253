package io.flashllm.predictor;

import java.nio.file.Path;

/**
 * A trace or predictor file that cannot be written or read, or a calibration that cannot run: the
 * message names the file (when there is one) and the fault, so a user knows what to fix.
 */
public final class PredictorException extends RuntimeException {
    private final transient Path file;

    public PredictorException(Path file, String fault) {
        super(file == null ? fault : file + ": " + fault);
        this.file = file;
    }

    public PredictorException(Path file, String fault, Throwable cause) {
        super(file == null ? fault : file + ": " + fault, cause);
        this.file = file;
    }

    /** The file at fault, or null when the fault is not about one file. */
    public Path file() {
        return file;
    }
}
