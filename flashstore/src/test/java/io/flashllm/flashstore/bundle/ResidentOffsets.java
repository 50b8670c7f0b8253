package io.flashllm.flashstore.bundle;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Checks {@link ResidentPaging#tensors}: each tensor's bytes, read from its file at the offset given, are the mapped tensor's. */
final class ResidentOffsets {
    private ResidentOffsets() {}

    static void assertEachTensorAtItsOffset(List<ResidentPaging.Mapped> tensors) throws IOException {
        assertFalse(tensors.isEmpty());
        for (ResidentPaging.Mapped m : tensors) {
            MemorySegment data = m.tensor().data();
            try (FileChannel ch = FileChannel.open(m.file(), StandardOpenOption.READ); Arena a = Arena.ofConfined()) {
                MemorySegment read = a.allocate(data.byteSize());
                var buf = read.asByteBuffer();
                while (buf.hasRemaining()) {
                    if (ch.read(buf, m.offset() + buf.position()) < 0) break;
                }
                assertEquals(-1, read.mismatch(data), m.tensor().name() + " at offset " + m.offset() + " of " + m.file());
            }
        }
    }
}
