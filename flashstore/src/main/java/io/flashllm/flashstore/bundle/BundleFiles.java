package io.flashllm.flashstore.bundle;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/** Checks of files against the manifest, shared by the loader (fail fast) and the verifier (list all). */
final class BundleFiles {
    private BundleFiles() {}

    /** Existence and size; reports a fault and returns false when the file cannot be checked further. */
    static boolean checkPresence(Path dir, Manifest.FileEntry e, Consumer<BundleException> fault) {
        Path f = dir.resolve(e.path());
        if (!Files.isRegularFile(f)) {
            fault.accept(new BundleException(f, "missing file listed in the manifest"));
            return false;
        }
        long size;
        try {
            size = Files.size(f);
        } catch (IOException ex) {
            fault.accept(new BundleException(f, "cannot be read: " + ex.getMessage(), ex));
            return false;
        }
        if (size < e.bytes()) {
            fault.accept(new BundleException(f, "truncated: " + size + " bytes, the manifest says " + e.bytes()));
            return false;
        }
        if (size > e.bytes()) {
            fault.accept(new BundleException(f, "is " + size + " bytes, the manifest says " + e.bytes() + " (file changed)"));
            return false;
        }
        return true;
    }

    /** CRC32C of the named sections (all when {@code filter} is null). */
    static void checkSections(Path dir, Manifest.FileEntry e, java.util.function.Predicate<String> filter,
                              Consumer<BundleException> fault) {
        Path f = dir.resolve(e.path());
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            for (Manifest.Section s : e.sections()) {
                if (filter != null && !filter.test(s.name())) continue;
                String got = Checksums.hex(Checksums.crc32c(ch, s.offset(), s.length()));
                if (!got.equalsIgnoreCase(s.crc32c())) {
                    fault.accept(new BundleException(f, "checksum mismatch in section '" + s.name() + "' (bytes " + s.offset()
                            + ".." + (s.offset() + s.length()) + "): expected crc32c " + s.crc32c() + ", found " + got
                            + "; the file is damaged"));
                }
            }
        } catch (IOException ex) {
            fault.accept(new BundleException(f, "cannot be read: " + ex.getMessage(), ex));
        }
    }
}
