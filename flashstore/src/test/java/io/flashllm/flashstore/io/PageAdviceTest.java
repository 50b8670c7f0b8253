package io.flashllm.flashstore.io;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link PageAdvice} against the real page cache: a file on disk, evicted, then mapped and touched,
 * with {@code mincore(2)} saying which pages are in memory. File systems that keep files in memory
 * (tmpfs) cannot evict, so there only the calls' success is checked.
 */
class PageAdviceTest {
    private static final long MiB = 1 << 20;

    @TempDir
    Path tmp;
    private Path file;
    private boolean diskBacked;

    @BeforeEach
    void writeFile() throws IOException {
        file = tmp.resolve("pages.bin");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate((int) MiB);
            for (int i = 0; i < 32; i++) {
                b.clear();
                while (b.hasRemaining()) b.put((byte) i);
                b.flip();
                ch.write(b);
            }
            ch.force(true); // dirty pages cannot be evicted
        }
        String type = Files.getFileStore(tmp).type();
        diskBacked = !type.equals("tmpfs") && !type.equals("ramfs");
    }

    private MemorySegment map(Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
    }

    @Test
    void evictDropsTheCachedPagesOfARange() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(arena);
            assertTrue(PageAdvice.evict(file, 0, 32 * MiB));
            if (!diskBacked) return;
            assertEquals(0, PageAdvice.residentBytes(m));
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ch.read(ByteBuffer.allocate((int) MiB), 8 * MiB); // a buffered read caches what it reads
            }
            assertEquals(MiB, PageAdvice.residentBytes(m.asSlice(8 * MiB, MiB)), "read pages cached");
            // The whole file: the kernel drops only whole page cache folios inside the range, and
            // readahead may have built folios that reach past the megabyte read.
            assertTrue(PageAdvice.evict(file, 0, 32 * MiB));
            assertEquals(0, PageAdvice.residentBytes(m), "evicted");
        }
    }

    /** Paging out a touched range of a read-only mapping takes its pages out of memory. */
    @Test
    void pageOutReclaimsARangeThatWasRead() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(arena);
            MemorySegment range = m.asSlice(2 * MiB, 2 * MiB);
            long sum = 0;
            for (long o = 0; o < range.byteSize(); o += 4096) sum += range.get(ValueLayout.JAVA_BYTE, o);
            assertEquals(256 * 2 + 256 * 3, sum, "a byte of each page: megabyte 2 holds 2s, megabyte 3 holds 3s");
            assertEquals(2 * MiB, PageAdvice.residentBytes(range), "touched");
            assertTrue(PageAdvice.pageOut(range));
            if (diskBacked) assertEquals(0, PageAdvice.residentBytes(range), "paged out");
        }
    }

    /** The probe reads mincore of a range's first page without allocating, and says "resident" where it cannot tell. */
    @Test
    void probeSeesWhetherARangesFirstPageIsInMemory() throws IOException {
        PageAdvice.Probe probe = new PageAdvice.Probe();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(arena);
            assertTrue(PageAdvice.evict(file, 0, 32 * MiB));
            MemorySegment range = m.asSlice(4 * MiB + 100, MiB);
            if (diskBacked) assertFalse(probe.firstPageResident(range), "evicted");
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                ch.read(ByteBuffer.allocate(4096), 4 * MiB); // the page that holds the range's start
            }
            assertTrue(probe.firstPageResident(range), "read");
            if (diskBacked) assertFalse(probe.firstPageResident(m.asSlice(20 * MiB, MiB)), "another range stays out");
        }
        // Not a mapping: nothing to tell, so no advice is asked for.
        assertTrue(probe.firstPageResident(MemorySegment.ofArray(new byte[16])));
    }

    /** The default read-around reads the disk's readahead window around a fault; advised random, one page. */
    @Test
    void aFaultOnARandomRangeReadsOnlyItsPage() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(arena);
            assertTrue(PageAdvice.evict(file, 0, 32 * MiB));
            assertTrue(PageAdvice.random(m));
            assertEquals(16, m.get(ValueLayout.JAVA_BYTE, 16 * MiB + 100), "the bytes are the file's");
            if (!diskBacked) return;
            long random = PageAdvice.residentBytes(m);
            assertTrue(random > 0 && random <= 64 << 10, "one fault, pages in memory: " + random);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(arena);
            assertTrue(PageAdvice.evict(file, 0, 32 * MiB));
            assertEquals(16, m.get(ValueLayout.JAVA_BYTE, 16 * MiB + 100));
            if (!diskBacked) return;
            // The same fault without the advice, for the record: the window is the disk's setting.
            long around = PageAdvice.residentBytes(m);
            assertTrue(around >= 4096, "read-around: " + around);
        }
    }

    @Test
    void willNeedReadsTheRangeAheadAndOnlyIt() throws IOException, InterruptedException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = map(arena);
            assertTrue(PageAdvice.evict(file, 0, 32 * MiB));
            assertTrue(PageAdvice.random(m));
            MemorySegment ahead = m.asSlice(4 * MiB, 4 * MiB);
            assertTrue(PageAdvice.willNeed(ahead));
            if (!diskBacked) return;
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (PageAdvice.residentBytes(ahead) < 4 * MiB && System.nanoTime() < deadline) Thread.sleep(10);
            assertEquals(4 * MiB, PageAdvice.residentBytes(ahead), "read ahead");
            assertEquals(0, PageAdvice.residentBytes(m.asSlice(12 * MiB, 20 * MiB)), "nothing beyond the range");
        }
    }

    @Test
    void segmentsThatAreNotMappedFilesAreLeftAlone() {
        assertFalse(PageAdvice.random(MemorySegment.ofArray(new byte[4096])), "a heap segment");
        assertFalse(PageAdvice.willNeed(MemorySegment.ofArray(new byte[4096])));
        assertEquals(-1, PageAdvice.residentBytes(MemorySegment.ofArray(new byte[4096])));
        assertFalse(PageAdvice.evict(tmp.resolve("missing.bin"), 0, 4096), "a file that does not exist");
    }
}
