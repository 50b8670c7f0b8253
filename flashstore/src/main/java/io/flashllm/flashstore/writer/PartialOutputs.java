package io.flashllm.flashstore.writer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Files and directories being written under a temporary name, removed if the JVM shuts down
 * before they are renamed into place (SIGTERM, Ctrl-C, an exit from another thread). A kill -9
 * still leaves them behind, under names that never load as a model.
 */
public final class PartialOutputs {
    private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();
    private static volatile boolean hooked;

    private PartialOutputs() {}

    /** {@code path} is now being written; it goes if the JVM shuts down before {@link #done}. */
    public static void writing(Path path) {
        hook();
        OPEN.add(path.toAbsolutePath());
    }

    /** {@code path} was renamed into place or removed: nothing left to clean up for it. */
    public static void done(Path path) {
        OPEN.remove(path.toAbsolutePath());
    }

    private static void hook() {
        if (hooked) return;
        synchronized (PartialOutputs.class) {
            if (hooked) return;
            Runtime.getRuntime().addShutdownHook(new Thread(PartialOutputs::removeAll, "flashllm-partial-cleanup"));
            hooked = true;
        }
    }

    private static void removeAll() {
        for (Path p : OPEN) {
            // The writing thread runs on until the JVM halts and may create a file meanwhile: retry.
            for (int attempt = 1; ; attempt++) {
                try {
                    remove(p);
                    break;
                } catch (IOException | RuntimeException e) {
                    if (attempt == 5) {
                        System.err.println("flashllm: could not remove the partial output " + p + ": " + e);
                        break;
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
    }

    /** Deletes {@code p}, a file or a directory tree; nothing when it does not exist. */
    public static void remove(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (Stream<Path> s = Files.walk(p)) {
                for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
            }
        } else {
            Files.deleteIfExists(p);
        }
    }
}
