package io.flashllm.flashstore.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * How the kernel should page a memory-mapped file, for a model that runs under a DRAM budget.
 *
 * <p>By default a page fault on a mapped file reads the whole readahead window around the fault
 * (the disk's {@code read_ahead_kb}: 8 MiB on the machines of docs/benchmarks.md), so a fault in a
 * layer's attention also reads megabytes of the tensors beside it, and a token-embedding lookup
 * reads 8 MiB of the table. Under a budget that leaves those neighbours out (gates read from flash
 * per layer, embeddings paged per row), the window fills the cgroup with pages nobody uses and
 * pushes out the ones the budget counted on. {@link #random} turns that off for a range;
 * {@link #willNeed} then reads what the budget does hold, once, in large requests, and
 * {@link #evict} drops what an earlier read (the checksum pass at load) left of the rest.
 *
 * <p>Advice only: where the call is unavailable (not Linux, no native access) or refused, the
 * methods return false and the file is paged as before, with the same results.
 */
public final class PageAdvice {
    private PageAdvice() {}

    /** Faults on {@code mapped} (a slice of a file mapping) read only the page touched. */
    public static boolean random(MemorySegment mapped) {
        return advise(mapped, Posix.MADV_RANDOM);
    }

    /** Starts reading {@code mapped} (a slice of a file mapping) into the page cache; returns at once. */
    public static boolean willNeed(MemorySegment mapped) {
        return advise(mapped, Posix.MADV_WILLNEED);
    }

    /**
     * Reclaims the pages of {@code mapped} (a slice of a read-only file mapping) now ({@code MADV_PAGEOUT}, Linux
     * 5.4 and later): clean file pages no other process maps leave the page cache, so what a DRAM budget gave up
     * is freed rather than left for the kernel to find. False where unavailable or refused.
     */
    public static boolean pageOut(MemorySegment mapped) {
        return advise(mapped, Posix.MADV_PAGEOUT);
    }

    /**
     * Drops the cached pages of {@code [offset, offset + length)} of {@code file} that no process
     * maps or has dirty (POSIX_FADV_DONTNEED); false where unavailable. File systems that keep files
     * in memory (tmpfs) keep them.
     */
    public static boolean evict(Path file, long offset, long length) {
        if (Posix.unavailable() != null) return false;
        int fd;
        try {
            fd = Posix.open(file.toString(), false);
        } catch (IOException e) {
            return false;
        }
        try {
            return Posix.fadvise(fd, offset, length, Posix.POSIX_FADV_DONTNEED) == 0;
        } finally {
            Posix.close(fd);
        }
    }

    /** Bytes of {@code mapped} (a slice of a file mapping, widened to whole pages) in memory now; -1 where unknown. */
    public static long residentBytes(MemorySegment mapped) {
        if (Posix.unavailable() != null || !mapped.isNative() || mapped.byteSize() == 0) return -1;
        long pages = Posix.residentPages(mapped.address(), mapped.byteSize());
        return pages < 0 ? -1 : pages * Posix.pageSize();
    }

    /**
     * Asks, without allocating, whether the first page of a mapped range is in memory: a cheap sign that a range
     * read as a whole (one expert's matrix) is still there. Answers true where it cannot tell, so that callers
     * only give advice they know is needed. Not thread-safe: one probe per thread, or calls one at a time.
     */
    public static final class Probe {
        private final MemorySegment state;
        private final MemorySegment vec;

        public Probe() {
            Arena arena = Arena.ofAuto();
            this.state = Posix.unavailable() == null ? Posix.newCallState(arena) : null;
            this.vec = arena.allocate(1);
        }

        public boolean firstPageResident(MemorySegment mapped) {
            if (state == null || !mapped.isNative() || mapped.byteSize() == 0) return true;
            return Posix.pageResident(mapped.address(), state, vec) != 0;
        }
    }

    private static boolean advise(MemorySegment mapped, int advice) {
        if (Posix.unavailable() != null || !mapped.isNative() || mapped.byteSize() == 0) return false;
        return Posix.madvise(mapped.address(), mapped.byteSize(), advice) == 0;
    }
}
