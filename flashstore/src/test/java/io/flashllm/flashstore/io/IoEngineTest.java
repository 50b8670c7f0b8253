package io.flashllm.flashstore.io;

import org.junit.jupiter.api.Assumptions;
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

    /** Every check runs on both ways of issuing reads: worker threads and Linux native AIO. */
    private static void randomReadsMatch(BlockFile file, byte[] data, long seed) {
        randomReadsMatch(file, data, seed, false);
        randomReadsMatch(file, data, seed, true);
    }

    private static void randomReadsMatch(BlockFile file, byte[] data, long seed, boolean aio) {
        Random r = new Random(seed);
        int reads = 200;
        try (IoEngine io = new IoEngine(8, 256 * 1024, aio)) {
            assertEquals(aio && LinuxAio.unavailable() == null, io.nativeAio());
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
            }, Posix.unavailable() == null)) {
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

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void readPastEndIsAClearError(boolean aio) throws IOException {
        Path f = tmp.resolve("s.bin");
        randomFile(f, 8192, 9);
        try (BlockFile bf = BlockFile.open(f, true); IoEngine io = new IoEngine(2, 16384, aio)) {
            ReadBatch b = new ReadBatch(3);
            b.handler((i, s, n) -> {});
            b.add(bf, 0, 4096);
            b.add(bf, 4096, 8192);
            b.add(bf, 4096, 4096);
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> io.execute(b));
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    /**
     * Reads straight into the caller's memory (how the expert slots are filled): the bytes land there, the handler sees
     * that memory, and an engine without buffers allocates none and refuses a read that names no memory, as it does
     * memory that is misaligned for a direct file, the wrong size or read-only.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void readsGoStraightIntoTheCallersMemory(boolean aio) throws IOException {
        Path f = tmp.resolve("into.bin");
        byte[] data = randomFile(f, 64 * 1024, 21);
        readsGoStraightIntoTheCallersMemory(aio, true, f, data);
        readsGoStraightIntoTheCallersMemory(aio, false, f, data); // buffered, as where O_DIRECT is refused
    }

    private static void readsGoStraightIntoTheCallersMemory(boolean aio, boolean direct, Path f, byte[] data) throws IOException {
        try (BlockFile bf = BlockFile.open(f, direct); IoEngine io = new IoEngine(3, 16384, aio, false);
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            MemorySegment dst = arena.allocate(48 * 1024, BlockFile.ALIGNMENT);
            ReadBatch b = new ReadBatch(4);
            MemorySegment[] seen = new MemorySegment[4];
            b.handler((i, seg, n) -> seen[i] = seg);
            // Three reads into the memory out of order, the last one a single block.
            b.add(bf, 40960, 16384, dst.asSlice(0, 16384));
            b.add(bf, 0, 16384, dst.asSlice(16384, 16384));
            b.add(bf, 61440, 4096, dst.asSlice(32768, 4096));
            io.execute(b);
            MemorySegment file = MemorySegment.ofArray(data);
            assertEquals(-1, dst.asSlice(0, 16384).mismatch(file.asSlice(40960, 16384)));
            assertEquals(-1, dst.asSlice(16384, 16384).mismatch(file.asSlice(0, 16384)));
            assertEquals(-1, dst.asSlice(32768, 4096).mismatch(file.asSlice(61440, 4096)));
            assertEquals(dst.address() + 16384, seen[1].address(), "the handler sees the caller's memory");
            b.clear();
            b.add(bf, 0, 4096);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> io.submit(b)).getMessage().contains("no buffers"));
            if (bf.direct()) {
                b.clear();
                b.add(bf, 0, 4096, dst.asSlice(512, 4096));
                assertTrue(assertThrows(IllegalArgumentException.class, () -> io.submit(b)).getMessage().contains("aligned"));
            }
            b.clear();
            b.add(bf, 0, 4096, dst.asSlice(0, 8192));
            assertThrows(IllegalArgumentException.class, () -> io.submit(b), "memory of another size");
            b.clear();
            b.add(bf, 0, 4096, dst.asSlice(0, 4096).asReadOnly());
            assertThrows(IllegalArgumentException.class, () -> io.submit(b), "read-only memory");
            b.clear();
            b.add(bf, 4096, 4096, dst.asSlice(4096, 4096));
            io.execute(b);
            assertEquals(-1, dst.asSlice(4096, 4096).mismatch(file.asSlice(4096, 4096)), "the engine still reads after refusals");
        }
    }

    /** On the platforms the project ships for (Linux on x86-64 or AArch64) reads use native AIO. */
    @Test
    void nativeAioIsAvailableOnLinux() {
        String arch = System.getProperty("os.arch");
        if (System.getProperty("os.name").startsWith("Linux") && (arch.equals("amd64") || arch.equals("aarch64"))) {
            assertNull(LinuxAio.unavailable(), "native AIO refused: " + LinuxAio.unavailable());
        } else {
            assertNotNull(LinuxAio.unavailable());
        }
        try (IoEngine io = new IoEngine(4, 8192, true)) {
            assertEquals(LinuxAio.unavailable() == null, io.nativeAio());
            assertTrue(io.describe().contains(io.nativeAio() ? "native AIO" : "threads"), io.describe());
        }
    }

    /** A context the kernel refuses (more events than any limit allows) is an error naming io_setup, which the engine turns into the thread fallback. */
    @Test
    void refusedContextIsAClearError() {
        if (LinuxAio.unavailable() != null) return; // nothing to refuse where native AIO is absent
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LinuxAio.setup(Integer.MAX_VALUE));
        assertTrue(e.getMessage().startsWith("io_setup(" + Integer.MAX_VALUE + ") failed: errno "), e.getMessage());
    }

    /** A file that shrank after it was opened: the kernel returns fewer bytes, which is an error naming the file. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void fileShrunkUnderTheReaderIsAClearError(boolean aio) throws IOException {
        Path f = tmp.resolve("shrink.bin");
        randomFile(f, 16384, 12);
        try (BlockFile bf = BlockFile.open(f, true); IoEngine io = new IoEngine(2, 8192, aio)) {
            try (var ch = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                ch.truncate(8192);
            }
            ReadBatch b = new ReadBatch(2);
            b.handler((i, s, n) -> {});
            b.add(bf, 0, 4096);
            b.add(bf, 8192, 4096);
            RuntimeException e = assertThrows(RuntimeException.class, () -> io.execute(b));
            assertTrue(e.getMessage().contains("shrink.bin"), e.getMessage());
            // The engine keeps working after a failed batch.
            b.clear();
            b.add(bf, 0, 4096);
            io.execute(b);
        }
    }

    /** A handler that throws fails its batch with that exception; the other reads still finish. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void handlerFailureFailsTheBatchOnly(boolean aio) throws IOException {
        Path f = tmp.resolve("h.bin");
        randomFile(f, 1 << 20, 13);
        try (BlockFile bf = BlockFile.open(f, true); IoEngine io = new IoEngine(4, 4096, aio)) {
            ReadBatch b = new ReadBatch(64);
            AtomicInteger handled = new AtomicInteger();
            b.handler((i, s, n) -> {
                handled.incrementAndGet();
                if (i == 17) throw new IllegalStateException("checksum mismatch in read 17");
            });
            for (int i = 0; i < 64; i++) b.add(bf, (long) i * 4096, 4096);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> io.execute(b));
            assertEquals("checksum mismatch in read 17", e.getMessage());
            assertEquals(64, handled.get(), "every read completed before the batch reported");
            b.clear();
            b.add(bf, 0, 4096);
            io.execute(b);
        }
    }

    /**
     * One batch refilled the moment it completes, round after round, as the FFN's stream rounds do:
     * the engine must not look at a batch again once its last read finished.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void batchRefilledRightAwayReadsTheNewRound(boolean aio) throws IOException {
        Path f = tmp.resolve("r.bin");
        byte[] data = randomFile(f, 1 << 20, 15);
        Random r = new Random(16);
        try (BlockFile bf = BlockFile.open(f, true); IoEngine io = new IoEngine(4, 8192, aio)) {
            ReadBatch b = new ReadBatch(64);
            byte[] got = new byte[64];
            int[] calls = new int[1];
            b.handler((i, s, n) -> {
                got[i] = s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 7);
                synchronized (calls) {
                    calls[0]++;
                }
            });
            for (int round = 0; round < 2000; round++) {
                b.clear();
                int n = 1 + r.nextInt(64);
                for (int i = 0; i < n; i++) b.add(bf, (long) r.nextInt(255) * 4096, 4096 * (1 + r.nextInt(2)));
                calls[0] = 0;
                io.execute(b);
                synchronized (calls) {
                    assertEquals(n, calls[0], "round " + round + ": each read handled once");
                }
                for (int i = 0; i < n; i++) assertEquals(data[(int) b.offsets[i] + 7], got[i], "round " + round + " read " + i);
            }
        }
    }

    /**
     * With native AIO the caller submits its batch's reads itself: they are with the kernel when
     * submit returns, not when the AIO thread next runs; reads beyond the free slots go in as slots
     * free up, and every byte still arrives.
     */
    @Test
    void nativeAioReadsAreSubmittedByTheCaller() throws IOException {
        Assumptions.assumeTrue(IoEngine.nativeAioAvailable(), "native AIO: " + LinuxAio.unavailable());
        Path f = tmp.resolve("s.bin");
        byte[] data = randomFile(f, 1 << 20, 15);
        try (BlockFile bf = BlockFile.open(f, true); IoEngine io = new IoEngine(8, 8192, true)) {
            assertEquals(0, io.aioSubmitted());
            byte[] got = new byte[20];
            ReadBatch b = new ReadBatch(20);
            b.handler((i, s, n) -> got[i] = s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 7));
            for (int i = 0; i < 6; i++) b.add(bf, i * 8192L, 4096);
            io.submit(b);
            assertTrue(io.aioSubmitted() >= 6, "submitted on return: " + io.aioSubmitted());
            b.await();
            b.clear();
            for (int i = 0; i < 20; i++) b.add(bf, i * 4096L, 4096);
            io.submit(b);
            assertTrue(io.aioSubmitted() >= 6 + 8, "the free slots' worth on return: " + io.aioSubmitted());
            b.await();
            assertEquals(26, io.aioSubmitted(), "the rest as slots freed up");
            for (int i = 0; i < 20; i++) assertEquals(data[i * 4096 + 7], got[i]);
        }
        try (IoEngine threads = new IoEngine(2, 8192)) {
            assertEquals(-1, threads.aioSubmitted());
        }
    }

    /**
     * A batch larger than one io_submit call takes ({@link IoEngine#SUBMIT_AT_ONCE}: the kernel holds
     * a call's requests until it returns) goes in several calls, all on the caller, every read once.
     */
    @Test
    void nativeAioSubmitsALargeBatchInSeveralCalls() throws IOException {
        Assumptions.assumeTrue(IoEngine.nativeAioAvailable(), "native AIO: " + LinuxAio.unavailable());
        Path f = tmp.resolve("l.bin");
        byte[] data = randomFile(f, 1 << 20, 16);
        int n = 3 * IoEngine.SUBMIT_AT_ONCE + 5;
        try (BlockFile bf = BlockFile.open(f, true); IoEngine io = new IoEngine(n + 8, 8192, true)) {
            byte[] got = new byte[n];
            int[] calls = new int[n];
            ReadBatch b = new ReadBatch(n);
            b.handler((i, s, ns) -> {
                got[i] = s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 9);
                calls[i]++;
            });
            for (int i = 0; i < n; i++) b.add(bf, (long) (n - i) * 4096, 4096);
            io.submit(b);
            assertEquals(n, io.aioSubmitted(), "all with the kernel when submit returns");
            b.await();
            for (int i = 0; i < n; i++) {
                assertEquals(data[(n - i) * 4096 + 9], got[i], "read " + i);
                assertEquals(1, calls[i], "read " + i + " handled once");
            }
        }
    }

    /** Batches from two threads at once (a layer's reads and the next layer's prefetch) both complete. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void concurrentBatchesComplete(boolean aio) throws Exception {
        Path f = tmp.resolve("c.bin");
        byte[] data = randomFile(f, 1 << 20, 14);
        try (BlockFile bf = BlockFile.open(f, true); IoEngine io = new IoEngine(8, 8192, aio)) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    int seed = t;
                    done.add(pool.submit(() -> {
                        Random r = new Random(seed);
                        for (int round = 0; round < 50; round++) {
                            ReadBatch b = new ReadBatch(40);
                            long[] sums = new long[40];
                            b.handler((i, s, n) -> sums[i] = s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 100));
                            for (int i = 0; i < 40; i++) b.add(bf, (long) r.nextInt(255) * 4096, 4096 * (1 + r.nextInt(2)));
                            io.execute(b);
                            for (int i = 0; i < 40; i++) assertEquals(data[(int) b.offsets[i] + 100], (byte) sums[i]);
                        }
                        return null;
                    }));
                }
                for (var d : done) d.get(60, java.util.concurrent.TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
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
