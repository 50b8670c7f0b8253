package io.flashllm.flashstore.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class IoEngineTest {
    @TempDir
    Path tmp;

    private static byte[] randomFile(Path f, int size, long seed) throws IOException {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        Files.write(f, data);
        return data;
    }

    private static void randomReadsMatch(BlockFile file, byte[] data, long seed) {
        Random r = new Random(seed);
        int reads = 200;
        try (IoEngine io = new IoEngine(8, 256 * 1024)) {
            ReadBatch batch = new ReadBatch(reads);
            byte[][] got = new byte[reads][];
            batch.handler((i, seg, nanos) -> got[i] = seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            int blocks = data.length / BlockFile.ALIGNMENT;
            for (int i = 0; i < reads; i++) {
                int len = (1 + r.nextInt(64)) * BlockFile.ALIGNMENT;
                int first = r.nextInt(blocks - len / BlockFile.ALIGNMENT + 1);
                batch.add(file, (long) first * BlockFile.ALIGNMENT, len);
            }
            io.execute(batch);
            for (int i = 0; i < reads; i++) {
                int off = (int) batch.offsets[i];
                assertEquals(batch.lengths[i], got[i].length);
                assertEquals(-1, MemorySegment.ofArray(got[i]).mismatch(MemorySegment.ofArray(data).asSlice(off, got[i].length)),
                        "read " + i + " at " + off);
            }
            // The batch is reusable.
            batch.clear();
            batch.add(file, 0, BlockFile.ALIGNMENT);
            io.execute(batch);
            assertEquals(data[0], got[0][0]);
        }
    }

    @Test
    void directReadsEqualFileBytes() throws IOException {
        Path f = tmp.resolve("d.bin");
        byte[] data = randomFile(f, 4 << 20, 1);
        try (BlockFile bf = BlockFile.open(f, true)) {
            if (Files.getFileStore(f).type().equals("ext4")) assertTrue(bf.direct(), "ext4 takes O_DIRECT");
            randomReadsMatch(bf, data, 2);
        }
    }

    /**
     * Buffered reads where O_DIRECT is refused. tmpfs refused it on older kernels and accepts it since
     * Linux 6.6, so the refusal is also simulated: the opener fails as such a file system does.
     */
    @Test
    void bufferedFallbackWhereDirectIsRefused() throws IOException {
        Path shm = Path.of("/dev/shm");
        Path dir = Files.isDirectory(shm) ? Files.createTempDirectory(shm, "flashllm-io") : tmp;
        Path f = dir.resolve("t.bin");
        try {
            byte[] data = randomFile(f, 2 << 20, 3);
            try (BlockFile bf = BlockFile.open(f, true)) {
                randomReadsMatch(bf, data, 4);
            }
            try (BlockFile bf = BlockFile.open(f, true, p -> {
                throw new IOException("Invalid argument");
            })) {
                assertFalse(bf.direct(), "refused O_DIRECT falls back to buffered");
                assertTrue(BlockFile.warnedFileSystems().contains(Files.getFileStore(f).type()), "logged once");
                randomReadsMatch(bf, data, 6);
            }
            try (BlockFile bf = BlockFile.open(f, false)) {
                assertFalse(bf.direct());
                randomReadsMatch(bf, data, 5);
            }
        } finally {
            Files.deleteIfExists(f);
            if (!dir.equals(tmp)) Files.deleteIfExists(dir);
        }
    }

    /** Files shorter than a block are probed too (a direct read there just returns fewer bytes). */
    @Test
    void shortFilesOpen() throws IOException {
        for (int size : new int[] {0, 100}) {
            Path f = tmp.resolve("short" + size + ".bin");
            randomFile(f, size, size);
            try (BlockFile bf = BlockFile.open(f, true)) {
                assertEquals(size, bf.size());
                if (Files.getFileStore(f).type().equals("ext4")) assertTrue(bf.direct(), "ext4 takes O_DIRECT");
            }
        }
    }

    @Test
    void readPastEndIsAClearError() throws IOException {
        Path f = tmp.resolve("s.bin");
        randomFile(f, 8192, 9);
        try (BlockFile bf = BlockFile.open(f, true); IoEngine io = new IoEngine(2, 16384)) {
            ReadBatch b = new ReadBatch(1);
            b.handler((i, s, n) -> {});
            b.add(bf, 4096, 8192);
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> io.execute(b));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void manyReadsInFlight() throws Exception {
        Path f = tmp.resolve("q.bin");
        randomFile(f, 1 << 20, 11);
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        try (BlockFile bf = BlockFile.open(f, false); IoEngine io = new IoEngine(6, 4096)) {
            ReadBatch b = new ReadBatch(60);
            b.handler((i, s, n) -> {
                int now = inFlight.incrementAndGet();
                maxInFlight.accumulateAndGet(now, Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                inFlight.decrementAndGet();
            });
            for (int i = 0; i < 60; i++) b.add(bf, (long) i * 4096, 4096);
            io.execute(b);
            assertTrue(maxInFlight.get() > 1, "reads overlap across worker threads: " + maxInFlight.get());
        }
    }

    @Test
    void coalescesNeighbours() {
        int[] start = new int[10];
        int[] len = new int[10];
        int n = Coalescer.coalesce(new int[] {1, 2, 3, 5, 9, 10}, 6, 0, 100, start, len);
        assertEquals(3, n);
        assertArrayEquals(new int[] {1, 5, 9}, java.util.Arrays.copyOf(start, n));
        assertArrayEquals(new int[] {3, 1, 2}, java.util.Arrays.copyOf(len, n));
        // a gap of one unwanted block is read through when allowed
        n = Coalescer.coalesce(new int[] {1, 2, 3, 5, 9, 10}, 6, 1, 100, start, len);
        assertEquals(2, n);
        assertEquals(5, len[0]);
        // runs are capped
        n = Coalescer.coalesce(new int[] {0, 1, 2, 3, 4}, 5, 0, 2, start, len);
        assertEquals(3, n);
        assertArrayEquals(new int[] {2, 2, 1}, java.util.Arrays.copyOf(len, n));
        assertThrows(IllegalArgumentException.class, () -> Coalescer.coalesce(new int[] {3, 3}, 2, 0, 4, start, len));
    }

    @Test
    void coalescingRandomAgainstSet() {
        Random r = new Random(5);
        for (int trial = 0; trial < 200; trial++) {
            java.util.TreeSet<Integer> want = new java.util.TreeSet<>();
            int m = r.nextInt(50);
            for (int i = 0; i < m; i++) want.add(r.nextInt(200));
            int[] blocks = want.stream().mapToInt(Integer::intValue).toArray();
            int gap = r.nextInt(3);
            int maxRun = 1 + r.nextInt(8);
            int[] start = new int[blocks.length];
            int[] len = new int[blocks.length];
            int runs = Coalescer.coalesce(blocks, blocks.length, gap, maxRun, start, len);
            java.util.Set<Integer> covered = new java.util.HashSet<>();
            int last = -1;
            for (int i = 0; i < runs; i++) {
                assertTrue(len[i] >= 1 && len[i] <= maxRun);
                assertTrue(start[i] > last, "runs ascend and do not overlap");
                for (int b = start[i]; b < start[i] + len[i]; b++) covered.add(b);
                assertTrue(want.contains(start[i]) && want.contains(start[i] + len[i] - 1), "runs start and end on wanted blocks");
                last = start[i] + len[i] - 1;
            }
            assertTrue(covered.containsAll(want));
        }
    }
}
