package io.flashllm.server.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/** Turns exceptions into the one-line messages the CLI prints after {@code flashllm: }. */
final class CliErrors {
    private CliErrors() {}

    /** A mistake in how the command was used that only shows once it runs (exit status 2). */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    static String message(Throwable t) {
        return oneLine(describe(t));
    }

    private static String describe(Throwable t) {
        return switch (t) {
            case NoSuchFileException e -> "no such file or directory: " + e.getFile();
            case AccessDeniedException e -> "permission denied: " + e.getFile();
            case FileAlreadyExistsException e -> "already exists: " + e.getFile();
            case OutOfMemoryError e -> "out of memory (" + e.getMessage()
                    + "); try a smaller --ctx, or give the JVM more with FLASHLLM_JAVA_OPTS=-Xmx...";
            case IOException e -> e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            default -> {
                if (t.getMessage() != null && !t.getMessage().isBlank()) yield t.getMessage();
                if (t.getCause() != null && t.getCause() != t) yield describe(t.getCause());
                yield t.getClass().getSimpleName();
            }
        };
    }

    static String oneLine(String s) {
        if (s == null) return "error";
        String line = s.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ");
        return line.length() > 1000 ? line.substring(0, 1000) + "..." : line;
    }
}
