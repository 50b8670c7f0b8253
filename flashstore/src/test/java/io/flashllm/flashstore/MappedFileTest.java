package io.flashllm.flashstore;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MappedFileTest {
    @TempDir
    Path dir;

    @Test
    void theViewHoldsTheFileReadOnlyAndDiesWithTheMapping() throws IOException {
        byte[] bytes = new byte[10_000];
        for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (i * 31 + 7);
        Path f = Files.write(dir.resolve("w.bin"), bytes);
        MemorySegment s;
        try (MappedFile m = MappedFile.open(f)) {
            s = m.segment();
            assertEquals(bytes.length, m.size());
            assertArrayEquals(bytes, s.toArray(ValueLayout.JAVA_BYTE));
            assertTrue(s.isReadOnly(), "weights are mapped read-only");
            assertTrue(s.isNative());
            MemorySegment view = s;
            assertThrows(IllegalArgumentException.class, () -> view.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            // A slice, as tensors are, reads the same bytes.
            assertEquals(bytes[4321], s.asSlice(4000, 1000).get(ValueLayout.JAVA_BYTE, 321));
        }
        // Unmapped: the view fails cleanly instead of reading freed memory.
        MemorySegment closed = s;
        assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void anEmptyFileMapsToAnEmptySegment() throws IOException {
        Path f = Files.write(dir.resolve("empty.bin"), new byte[0]);
        try (MappedFile m = MappedFile.open(f)) {
            assertEquals(0, m.size());
        }
    }
}
