package io.flashllm.flashstore.bundle;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.*;

class ChecksumsTest {

    /** CRC32C of a byte array range, computed directly by the JDK: the reference. */
    private static int reference(byte[] bytes, int offset, int length) {
        CRC32C c = new CRC32C();
        c.update(bytes, offset, length);
        return (int) c.getValue();
    }

    @Test
    void rangesOfNativeAndHeapSegmentsMatchTheReference() {
        byte[] bytes = new byte[20_000];
        new SplittableRandom(5).nextBytes(bytes);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nat = arena.allocate(bytes.length).copyFrom(MemorySegment.ofArray(bytes));
            MemorySegment heap = MemorySegment.ofArray(bytes.clone());
            int[][] ranges = {{0, 20_000}, {0, 0}, {4096, 4352}, {19_999, 1}, {123, 8192}, {0, 4352}};
            for (MemorySegment s : new MemorySegment[] {nat, heap}) {
                // Twice over: the second round goes through the thread's cached view of a native segment.
                for (int round = 0; round < 2; round++) {
                    for (int[] r : ranges) {
                        assertEquals(reference(bytes, r[0], r[1]), Checksums.crc32c(s, r[0], r[1]),
                                "range " + r[0] + "+" + r[1] + " of " + s);
                    }
                }
                assertEquals(reference(bytes, 0, bytes.length), Checksums.crc32c(s));
                assertThrows(IndexOutOfBoundsException.class, () -> Checksums.crc32c(s, 19_000, 1_001));
                assertThrows(IndexOutOfBoundsException.class, () -> Checksums.crc32c(s, -1, 10));
            }
            // A slice is its own segment: its offsets are its own.
            MemorySegment slice = nat.asSlice(1000, 5000);
            assertEquals(reference(bytes, 1100, 300), Checksums.crc32c(slice, 100, 300));
        }
    }

    @Test
    void aClosedSegmentIsRefusedEvenAfterItWasChecked() {
        Arena arena = Arena.ofShared();
        MemorySegment s = arena.allocate(4096);
        Checksums.crc32c(s, 0, 4096);
        arena.close();
        assertThrows(IllegalStateException.class, () -> Checksums.crc32c(s, 0, 4096));
    }

    /** Every neuron group read from flash is checked: the check must not feed the garbage collector. */
    @Test
    void checkingTheSameReadBufferAgainAllocatesNothing() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(32 * 4352);
            for (int i = 0; i < 2000; i++) Checksums.crc32c(buffer, (i % 32) * 4352L, 4352); // warm up
            long tid = Thread.currentThread().threadId();
            long before = mx.getThreadAllocatedBytes(tid);
            int x = 0;
            for (int i = 0; i < 10_000; i++) x ^= Checksums.crc32c(buffer, (i % 32) * 4352L, 4352);
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            assertTrue(allocated < 1024, "10,000 checks allocated " + allocated + " bytes (" + x + ")");
        }
    }
}
