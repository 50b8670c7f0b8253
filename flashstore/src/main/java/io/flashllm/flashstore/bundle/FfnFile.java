package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.io.BlockFile;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One layer's FFN file opened for reading: its header, the per-group CRC table (kept on the heap,
 * 4 bytes per group) and a {@link BlockFile} for direct reads of the groups.
 */
public final class FfnFile implements AutoCloseable {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final FfnFileHeader header;
    private final int[] groupCrc;
    private final BlockFile file;

    private FfnFile(Path path, FfnFileHeader header, int[] groupCrc, BlockFile file) {
        this.path = path;
        this.header = header;
        this.groupCrc = groupCrc;
        this.file = file;
    }

    public static FfnFile open(Path path, boolean preferDirect) {
        FfnFileHeader header;
        int[] crcs;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = ch.size();
            MemorySegment head = arena.allocate(FfnFileHeader.SIZE);
            readFully(ch, head, 0, Math.min(size, FfnFileHeader.SIZE));
            header = FfnFileHeader.read(path, head, size);
            MemorySegment table = arena.allocate(Math.max(4, header.crcTableBytes()));
            readFully(ch, table, header.crcTableOffset(), header.crcTableBytes());
            crcs = new int[header.layout().groupCount()];
            for (int g = 0; g < crcs.length; g++) crcs[g] = table.get(INT, 4L * g);
        } catch (NoSuchFileException e) {
            throw new BundleException(path, "missing FFN bundle file");
        } catch (IOException e) {
            throw new BundleException(path, "cannot be read: " + e.getMessage(), e);
        }
        try {
            return new FfnFile(path, header, crcs, BlockFile.open(path, preferDirect));
        } catch (IOException e) {
            throw new BundleException(path, "cannot be opened: " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, MemorySegment dst, long offset, long length) throws IOException {
        var bb = dst.asSlice(0, length).asByteBuffer();
        long pos = offset;
        while (bb.hasRemaining()) {
            int n = ch.read(bb, pos);
            if (n < 0) break;
            pos += n;
        }
    }

    public Path path() {
        return path;
    }

    public FfnFileHeader header() {
        return header;
    }

    public BundleLayout layout() {
        return header.layout();
    }

    public BlockFile blockFile() {
        return file;
    }

    public long groupOffset(int group) {
        return header.groupOffset(group);
    }

    /** Checks group {@code g} whose bytes start at {@code data[offset]} against the CRC table. */
    public void checkGroup(int g, MemorySegment data, long offset) {
        int crc = Checksums.crc32c(data, offset, header.layout().groupBytes());
        if (crc != groupCrc[g]) {
            throw new BundleException(path, "checksum mismatch in neuron group " + g + " (file offset " + groupOffset(g)
                    + "): the bundle is damaged; run 'flashllm verify' and convert again");
        }
    }

    /**
     * Reads every group and checks it against the CRC table, reporting each fault (a truncated file
     * stops the scan). Returns the groups checked.
     */
    public int checkAllGroups(java.util.function.Consumer<BundleException> fault) {
        BundleLayout l = header.layout();
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment buf = arena.allocate(l.groupBytes());
            for (int g = 0; g < l.groupCount(); g++) {
                var bb = buf.asByteBuffer();
                long pos = groupOffset(g);
                while (bb.hasRemaining()) {
                    int n = ch.read(bb, pos);
                    if (n < 0) {
                        fault.accept(new BundleException(path, "truncated inside neuron group " + g));
                        return g;
                    }
                    pos += n;
                }
                try {
                    checkGroup(g, buf, 0);
                } catch (BundleException e) {
                    fault.accept(e);
                }
            }
        } catch (IOException e) {
            fault.accept(new BundleException(path, "cannot be read: " + e.getMessage(), e));
        }
        return l.groupCount();
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
