package io.flashllm.flashstore;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Checks that the byte ranges of a file's tensors do not overlap. Tensors sharing bytes would let
 * one corrupt file alias weights silently, so both readers refuse it.
 */
public final class ByteExtents {
    private record Extent(String name, long start, long end) {}

    private final List<Extent> extents = new ArrayList<>();

    /** Adds {@code [start, end)} for tensor {@code name}; empty ranges overlap nothing. */
    public void add(String name, long start, long end) {
        if (end > start) extents.add(new Extent(name, start, end));
    }

    /** Throws "overlapping tensors" naming the first pair found. */
    public void checkDisjoint(Path file) {
        extents.sort(Comparator.comparingLong(Extent::start).thenComparingLong(Extent::end));
        for (int i = 1; i < extents.size(); i++) {
            Extent prev = extents.get(i - 1);
            Extent cur = extents.get(i);
            if (cur.start() < prev.end()) {
                throw new ModelFileException(file, "overlapping tensors: '" + prev.name() + "' [" + prev.start()
                        + ", " + prev.end() + ") and '" + cur.name() + "' [" + cur.start() + ", " + cur.end() + ")");
            }
        }
    }
}
