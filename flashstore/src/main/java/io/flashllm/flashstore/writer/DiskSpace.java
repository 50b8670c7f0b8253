package io.flashllm.flashstore.writer;

import io.flashllm.flashstore.budget.MemorySize;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Refuses a write that the file system cannot hold before any of it is written: a model asked for
 * by mistake at a thousand times its size should fail at once with the figures, not after filling
 * the disk.
 */
public final class DiskSpace {
    private DiskSpace() {}

    /**
     * Throws when writing {@code bytes} next to {@code target} (a file or directory to be created)
     * needs more than the usable space of the file system that will hold it.
     */
    public static void require(Path target, long bytes) throws IOException {
        Path dir = existingAncestor(target.toAbsolutePath().getParent());
        if (dir == null) return; // nothing to ask; the write itself will say what is wrong
        java.nio.file.FileStore store = Files.getFileStore(dir);
        if (store.getTotalSpace() == 0) return; // a pseudo file system (proc, sysfs): no figures to go by
        long free = store.getUsableSpace();
        if (bytes > free) {
            throw new IOException("not enough space for " + target + ": it needs " + MemorySize.format(bytes) + " and the file system of "
                    + dir + " has " + MemorySize.format(free) + " free (No space left on device)");
        }
    }

    private static Path existingAncestor(Path p) {
        while (p != null && !Files.isDirectory(p)) p = p.getParent();
        return p;
    }
}
