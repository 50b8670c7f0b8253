package io.flashllm.flashstore.bundle;

import java.nio.file.Path;

/**
 * A flash bundle that cannot be written, opened or read: the message names the file and the fault
 * (truncated, checksum mismatch, missing, wrong version, ...), so a user knows what to fix.
 */
public final class BundleException extends RuntimeException {
    private final transient Path file;

    public BundleException(Path file, String fault) {
        super(file + ": " + fault);
        this.file = file;
    }

    public BundleException(Path file, String fault, Throwable cause) {
        super(file + ": " + fault, cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
