package io.flashllm.flashstore.bundle;

import io.flashllm.kernels.GgmlType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The first 4096 bytes of an FFN layer file ({@code ffn/layer-NNN.bin}):
 * <pre>
 *   0  magic "FLLMFFN\0"        8  u32 format version   12 u32 layer
 *  16  u32 neurons              20 u32 neurons/group    24 u32 group count
 *  28  u32 part count           32 u64 group bytes      40 u64 groups offset (4096)
 *  48  u64 CRC table offset     56 parts: (u32 part, u32 ggml type, u32 elements, u32 0) each
 * 4092 u32 CRC32C of bytes 0..4092
 * </pre>
 * Groups follow at 4096, each {@code groupBytes} long; then the CRC32C of every group (u32 each),
 * padded to 4096. All little-endian. The header checks itself so a damaged file is caught even
 * without the manifest.
 */
public record FfnFileHeader(int version, int layer, BundleLayout layout, long groupsOffset, long crcTableOffset) {
    public static final int SIZE = 4096;
    public static final byte[] MAGIC = "FLLMFFN\0".getBytes(StandardCharsets.US_ASCII);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public static FfnFileHeader of(int layer, BundleLayout layout) {
        long crcTable = SIZE + (long) layout.groupCount() * layout.groupBytes();
        return new FfnFileHeader(BundleFormat.VERSION, layer, layout, SIZE, crcTable);
    }

    public long crcTableBytes() {
        return 4L * layout.groupCount();
    }

    /** Total file size: header, groups, CRC table padded to the alignment. */
    public long fileSize() {
        return crcTableOffset + BundleLayout.align(crcTableBytes());
    }

    public long groupOffset(int group) {
        return groupsOffset + group * layout.groupBytes();
    }

    public void write(MemorySegment s) {
        s.asSlice(0, SIZE).fill((byte) 0);
        MemorySegment.copy(MemorySegment.ofArray(MAGIC), 0, s, 0, 8);
        s.set(INT, 8, version);
        s.set(INT, 12, layer);
        s.set(INT, 16, layout.neurons());
        s.set(INT, 20, layout.neuronsPerGroup());
        s.set(INT, 24, layout.groupCount());
        s.set(INT, 28, layout.parts().size());
        s.set(LONG, 32, layout.groupBytes());
        s.set(LONG, 40, groupsOffset);
        s.set(LONG, 48, crcTableOffset);
        long o = 56;
        for (PartSpec p : layout.parts()) {
            s.set(INT, o, p.part().ordinal());
            s.set(INT, o + 4, p.type().ggmlId);
            s.set(INT, o + 8, p.elements());
            o += 16;
        }
        s.set(INT, SIZE - 4, Checksums.crc32c(s, 0, SIZE - 4));
    }

    /** Parses and validates a header; every fault names the file. */
    public static FfnFileHeader read(Path file, MemorySegment s, long fileSize) {
        if (s.byteSize() < SIZE || fileSize < SIZE) throw new BundleException(file, "truncated: " + fileSize + " bytes, shorter than the 4096-byte header");
        for (int i = 0; i < 8; i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != MAGIC[i]) throw new BundleException(file, "not a flashllm FFN bundle file (bad magic)");
        }
        int stored = s.get(INT, SIZE - 4);
        if (stored != Checksums.crc32c(s, 0, SIZE - 4)) throw new BundleException(file, "header checksum mismatch (damaged header)");
        int version = s.get(INT, 8);
        if (version != BundleFormat.VERSION) {
            throw new BundleException(file, "unsupported bundle format version " + version + " (this build reads version " + BundleFormat.VERSION + ")");
        }
        int layer = s.get(INT, 12);
        int neurons = s.get(INT, 16);
        int perGroup = s.get(INT, 20);
        int groups = s.get(INT, 24);
        int partCount = s.get(INT, 28);
        long groupBytes = s.get(LONG, 32);
        long groupsOffset = s.get(LONG, 40);
        long crcOffset = s.get(LONG, 48);
        if (partCount < 1 || partCount > 3) throw new BundleException(file, "header lists " + partCount + " parts");
        List<PartSpec> parts = new ArrayList<>();
        long o = 56;
        for (int i = 0; i < partCount; i++, o += 16) {
            int kind = s.get(INT, o);
            GgmlType type = GgmlType.fromId(s.get(INT, o + 4));
            if (kind < 0 || kind >= Part.values().length || type == null) throw new BundleException(file, "header part " + i + " is invalid");
            parts.add(new PartSpec(Part.values()[kind], type, s.get(INT, o + 8)));
        }
        BundleLayout layout;
        try {
            layout = new BundleLayout(parts, neurons, perGroup, groupBytes);
        } catch (IllegalArgumentException e) {
            throw new BundleException(file, "header layout is inconsistent: " + e.getMessage());
        }
        FfnFileHeader h = new FfnFileHeader(version, layer, layout, groupsOffset, crcOffset);
        if (groups != layout.groupCount() || groupsOffset != SIZE || crcOffset != SIZE + (long) groups * groupBytes) {
            throw new BundleException(file, "header layout is inconsistent (group count or offsets)");
        }
        if (fileSize < h.fileSize()) {
            throw new BundleException(file, "truncated: " + fileSize + " bytes, the header says " + h.fileSize());
        }
        if (fileSize > h.fileSize()) {
            throw new BundleException(file, "has " + (fileSize - h.fileSize()) + " bytes beyond the end the header gives");
        }
        return h;
    }
}
