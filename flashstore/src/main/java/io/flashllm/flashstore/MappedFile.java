package io.flashllm.flashstore;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A whole file mapped read-only into a shared arena, so weights are used in place from any thread.
 * Closing unmaps it; segments sliced from it must not be used afterwards.
 *
 * <p>{@link #segment()} is a plain native view of the mapping, not the mapped segment itself: the
 * kernels then see one segment class for file weights and for the neuron cache's native rows. A
 * compiled kernel that has seen both classes runs much slower on each (a bundle's cached FFN rows
 * were computed at 17 GB/s instead of 30 after the same kernels had read a mapped tensor;
 * docs/benchmarks.md §1, session 22).
 */
public final class MappedFile implements AutoCloseable {
    private final Path path;
    private final Arena arena;
    private final MemorySegment segment;

    private MappedFile(Path path, Arena arena, MemorySegment segment) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
    }

    public static MappedFile open(Path path) {
        if (Files.isDirectory(path)) throw new ModelFileException(path, "is a directory, not a file");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            MemorySegment seg = size == 0 ? MemorySegment.ofArray(new byte[0])
                    : nativeView(ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena), arena);
            return new MappedFile(path, arena, seg);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new ModelFileException(path, "file not found");
        } catch (IOException e) {
            arena.close();
            throw new ModelFileException(path, "cannot map file: " + e.getMessage(), e);
        }
    }

    /**
     * The same bytes as a read-only native segment, alive exactly as long as {@code arena} (the
     * one {@code mapped} was mapped into). For every file whose bytes reach the kernels.
     */
    @SuppressWarnings("restricted") // the view spans exactly the mapping and dies with its arena
    public static MemorySegment nativeView(MemorySegment mapped, Arena arena) {
        return MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), arena, null).asReadOnly();
    }

    public Path path() {
        return path;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long size() {
        return segment.byteSize();
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
