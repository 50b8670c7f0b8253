package io.flashllm.flashstore.writer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

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
            throw new IOException("not enough space for " + target + ": it needs " + size(bytes) + " and the file system of "
                    + dir + " has " + size(free) + " free (No space left on device)");
        }
    }

    private static Path existingAncestor(Path p) {
        while (p != null && !Files.isDirectory(p)) p = p.getParent();
        return p;
    }

    /** {@code bytes} in binary units, as people read disk sizes. */
    static String size(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " bytes" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
