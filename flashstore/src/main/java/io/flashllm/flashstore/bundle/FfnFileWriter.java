package io.flashllm.flashstore.bundle;

import io.flashllm.kernels.WeightTensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32C;

/** Writes one layer's FFN file: header, neuron groups, per-group CRC table (see {@link FfnFileHeader}). */
final class FfnFileWriter {
    private FfnFileWriter() {}

    static Manifest.FileEntry write(Path dir, String relPath, int layer, BundleLayout layout, WeightTensor gate,
                                    WeightTensor up, DownColumns down, BundleOutput.Limits limits) throws IOException {
        FfnFileHeader header = FfnFileHeader.of(layer, layout);
        long gateOff = layout.partOffset(Part.GATE);
        long upOff = layout.partOffset(Part.UP);
        long downOff = layout.partOffset(Part.DOWN);
        int groups = layout.groupCount();
        long groupBytes = layout.groupBytes();
        try (Arena arena = Arena.ofConfined();
             BundleOutput out = new BundleOutput(dir.resolve(relPath), limits)) {
            MemorySegment head = arena.allocate(FfnFileHeader.SIZE, BundleLayout.ALIGNMENT);
            header.write(head);
            out.write(head);

            MemorySegment group = arena.allocate(groupBytes, BundleLayout.ALIGNMENT);
            MemorySegment table = arena.allocate(BundleLayout.align(header.crcTableBytes()), BundleLayout.ALIGNMENT);
            CRC32C all = new CRC32C();
            for (int g = 0; g < groups; g++) {
                group.fill((byte) 0);
                int first = g * layout.neuronsPerGroup();
                int last = Math.min(layout.neurons(), first + layout.neuronsPerGroup());
                for (int j = first; j < last; j++) {
                    long base = layout.offsetInGroup(j);
                    if (gateOff >= 0) MemorySegment.copy(gate.row(j), 0, group, base + gateOff, gate.rowBytes());
                    MemorySegment.copy(up.row(j), 0, group, base + upOff, up.rowBytes());
                    down.write(j, group, base + downOff);
                }
                table.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * g, Checksums.crc32c(group));
                all.update(group.asByteBuffer());
                out.write(group);
            }
            out.write(table);
            String sha = out.finish();
            List<Manifest.Section> sections = List.of(
                    new Manifest.Section("header", 0, FfnFileHeader.SIZE, Checksums.hex(Checksums.crc32c(head))),
                    new Manifest.Section("groups", header.groupsOffset(), groups * groupBytes, Checksums.hex((int) all.getValue())),
                    new Manifest.Section("crc-table", header.crcTableOffset(), table.byteSize(), Checksums.hex(Checksums.crc32c(table))));
            return new Manifest.FileEntry(relPath, header.fileSize(), sha, sections);
        }
    }
}
