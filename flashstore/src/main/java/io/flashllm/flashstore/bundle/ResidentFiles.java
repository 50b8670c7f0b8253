package io.flashllm.flashstore.bundle;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** Helpers for describing resident files in the manifest. */
final class ResidentFiles {
    private ResidentFiles() {}

    /** Forces {@code file} to disk, then returns its manifest entry with the given sections. */
    static Manifest.FileEntry describe(Path dir, String rel, List<long[]> ranges, List<String> names) throws IOException {
        Path file = dir.resolve(rel);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.force(true);
            var sections = new java.util.ArrayList<Manifest.Section>();
            for (int i = 0; i < ranges.size(); i++) {
                long[] r = ranges.get(i);
                sections.add(new Manifest.Section(names.get(i), r[0], r[1], Checksums.hex(Checksums.crc32c(ch, r[0], r[1]))));
            }
            return new Manifest.FileEntry(rel, Files.size(file), Checksums.sha256(file), sections);
        }
    }

    /** A copied small file (config, tokenizer) as one section. */
    static Manifest.FileEntry copy(Path from, Path dir, String rel) throws IOException {
        Path to = dir.resolve(rel);
        Files.copy(from, to);
        long size = Files.size(to);
        return describe(dir, rel, List.<long[]>of(new long[] {0, size}), List.of("content"));
    }
}
