package io.flashllm.flashstore.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Whether this process may lock pages in memory ({@code mlock(2)}), asked before a memory budget is
 * split: locked, the resident tensors a budget holds cannot be evicted and re-read, so the budget
 * needs less headroom beside them and gives it to the neuron cache.
 *
 * <p>Linux allows it with the {@code CAP_IPC_LOCK} capability (root outside a container) or up to
 * the {@code RLIMIT_MEMLOCK} soft limit ({@code ulimit -l}; 8 MiB by default; for the Docker image's
 * non-root user, {@code docker run --ulimit memlock=-1:-1}). The system
 * property {@value #PROPERTY}{@code =false} turns locking off.
 */
public final class MemoryLock {
    /** Set to {@code false} to never lock. */
    public static final String PROPERTY = "flashllm.mlock";
    private static final int CAP_IPC_LOCK = 14;

    private MemoryLock() {}

    /** True when this process may lock {@code bytes} of memory and locking is not turned off. */
    public static boolean permitted(long bytes) {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true")) || Posix.unavailable() != null) return false;
        try {
            return permitted(Files.readString(Path.of("/proc/self/status")), Files.readString(Path.of("/proc/self/limits")),
                    bytes);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The decision on the texts of {@code /proc/self/status} (its {@code CapEff} line, hexadecimal)
     * and {@code /proc/self/limits} (its "Max locked memory" soft limit, bytes or "unlimited").
     */
    static boolean permitted(String status, String limits, long bytes) {
        try {
            return parsePermitted(status, limits, bytes);
        } catch (NumberFormatException malformed) {
            return false;
        }
    }

    private static boolean parsePermitted(String status, String limits, long bytes) {
        for (String line : status.split("\n")) {
            if (line.startsWith("CapEff:")) {
                long caps = Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
                if ((caps >>> CAP_IPC_LOCK & 1) != 0) return true;
            }
        }
        for (String line : limits.split("\n")) {
            if (line.startsWith("Max locked memory")) {
                String[] f = line.substring("Max locked memory".length()).trim().split("\\s+");
                String soft = f[0].toLowerCase(Locale.ROOT);
                return soft.equals("unlimited") || Long.parseLong(soft) >= bytes;
            }
        }
        return false;
    }

    /**
     * The memory this process may use: its cgroup's limit where it has one (the JVM reads it, in a
     * container or not), else the machine's. A budget that, with the heap, exceeds it must not lock:
     * locked pages cannot be evicted, and the cgroup would kill the process instead of paging.
     */
    public static long processMemoryLimit() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            long total = os.getTotalMemorySize();
            if (total > 0) return total;
        }
        return Long.MAX_VALUE;
    }

    /** Locks the pages that hold {@code segment} (reading them in first); 0, or the errno; -1 where unavailable. */
    public static int lock(java.lang.foreign.MemorySegment segment) {
        if (Posix.unavailable() != null || !segment.isNative() || segment.byteSize() == 0) return -1;
        return Posix.mlock(segment.address(), segment.byteSize());
    }

    /** The errno's name for messages (e.g. "ENOMEM (Cannot allocate memory)"). */
    public static String describe(int errno) {
        return Posix.describe(errno);
    }
}
