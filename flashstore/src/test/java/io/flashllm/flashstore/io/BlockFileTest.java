package io.flashllm.flashstore.io;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link BlockFile}: native open(2)/pread(2) with O_DIRECT, the buffered fallbacks, truncation and close. */
class BlockFileTest {
    private static final int A = BlockFile.ALIGNMENT;

    @TempDir
    Path tmp;
    private final List<Path> cleanup = new ArrayList<>();

    @AfterEach
    void removeOutsideTempDir() throws IOException {
        for (Path p : cleanup.reversed()) Files.deleteIfExists(p);
    }

    /** The ways a file is read: native O_DIRECT, native buffered, and a FileChannel (no native access). */
    enum Mode {
        DIRECT, NATIVE_BUFFERED, CHANNEL;

        BlockFile open(Path f) throws IOException {
            return switch (this) {
                case DIRECT -> BlockFile.open(f, true);
                case NATIVE_BUFFERED -> BlockFile.open(f, false);
                case CHANNEL -> BlockFile.open(f, false, p -> {
                    throw new AssertionError("not asked for");
                }, false);
            };
        }
    }

    private static boolean linuxNative() {
        return Posix.unavailable() == null;
    }

    private static byte[] randomFile(Path f, int size, long seed) throws IOException {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        Files.write(f, data);
        return data;
    }

    /** A directory on a disk file system for O_DIRECT; /var/tmp rather than /tmp, which may be tmpfs. */
    private Path diskDir() throws IOException {
        Path varTmp = Path.of("/var/tmp");
        assumeTrue(Files.isDirectory(varTmp) && Files.isWritable(varTmp), "no writable /var/tmp");
        Path dir = Files.createTempDirectory(varTmp, "flashllm-blockfile");
        cleanup.add(dir);
        return dir;
    }

    private static void assertReads(BlockFile bf, byte[] data, long offset, int length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(length, A);
            buf.fill((byte) 0x5a);
            bf.readFully(buf, offset);
            assertEquals(-1, buf.mismatch(MemorySegment.ofArray(data).asSlice(offset, length)),
                    length + " bytes at offset " + offset);
        }
    }

    private static void assertAllReads(BlockFile bf, byte[] data, long seed) {
        assertReads(bf, data, 0, data.length);
        Random r = new Random(seed);
        int blocks = data.length / A;
        for (int i = 0; i < 100; i++) {
            int len = 1 + r.nextInt(Math.min(64, blocks));
            int first = r.nextInt(blocks - len + 1);
            assertReads(bf, data, (long) first * A, len * A);
        }
    }

    /** The open flags of descriptor {@code fd} of this process, from /proc/self/fdinfo. */
    private static int openFlags(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) return Integer.parseInt(line.substring(6).trim(), 8);
        }
        throw new AssertionError("no flags in fdinfo of " + fd);
    }

    private static boolean hasODirect(int fd) throws IOException {
        int oDirect = System.getProperty("os.arch").equals("aarch64") ? 0x10000 : 0x4000;
        return (openFlags(fd) & oDirect) != 0;
    }

    private static int fdOf(BlockFile bf) {
        int fd = bf.acquireFd(0, 0);
        bf.releaseFd();
        return fd;
    }

    /** True while descriptor {@code fd} of this process is open on {@code file}. */
    private static boolean fdOpenOn(int fd, Path file) throws IOException {
        Path link = Path.of("/proc/self/fd/" + fd);
        if (!Files.isSymbolicLink(link)) return false;
        try {
            return Files.readSymbolicLink(link).equals(file.toRealPath());
        } catch (java.nio.file.NoSuchFileException e) {
            return false; // closed between the two looks
        }
    }

    @Test
    void directReadOnDiskReturnsExactlyTheBytesWritten() throws IOException {
        Path dir = diskDir();
        Path f = dir.resolve("disk.bin");
        cleanup.add(f);
        byte[] data = randomFile(f, (1 << 20) + 3 * A, 1);
        String fs = Files.getFileStore(f).type();
        try (BlockFile bf = BlockFile.open(f, true)) {
            assertEquals(data.length, bf.size());
            if (linuxNative() && List.of("ext4", "xfs", "btrfs").contains(fs)) {
                assertTrue(bf.direct(), fs + " takes O_DIRECT");
                assertTrue(hasODirect(fdOf(bf)), "the descriptor is open with O_DIRECT");
                assertEquals(0x80000, openFlags(fdOf(bf)) & 0x80000, "and close-on-exec");
            }
            assertAllReads(bf, data, 2);
            // The thread reader reads direct files with the same native pread.
            try (IoEngine io = new IoEngine(4, 64 * A, false)) {
                ReadBatch b = new ReadBatch(16);
                byte[][] got = new byte[16][];
                b.handler((i, seg, nanos) -> got[i] = seg.toArray(ValueLayout.JAVA_BYTE));
                for (int i = 0; i < 16; i++) b.add(bf, (long) i * 16 * A, (1 + i) * A);
                io.execute(b);
                for (int i = 0; i < 16; i++) {
                    assertEquals(-1, MemorySegment.ofArray(got[i]).mismatch(
                            MemorySegment.ofArray(data).asSlice((long) i * 16 * A, (1 + i) * A)), "read " + i);
                }
            }
        }
    }

    /**
     * tmpfs: refused O_DIRECT at open (EINVAL) before Linux 6.6 and accepts it since; either way the
     * bytes come back right, and where it was refused the file is read buffered.
     */
    @Test
    void tmpfsReadsTheRightBytesDirectOrNot() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no /dev/shm");
        Path dir = Files.createTempDirectory(shm, "flashllm-blockfile");
        cleanup.add(dir);
        Path f = dir.resolve("shm.bin");
        cleanup.add(f);
        byte[] data = randomFile(f, 512 * A, 3);
        try (BlockFile bf = BlockFile.open(f, true)) {
            if (linuxNative()) assertEquals(bf.direct(), hasODirect(fdOf(bf)));
            if (!bf.direct()) assertTrue(BlockFile.warnedFileSystems().contains(Files.getFileStore(f).type()));
            assertAllReads(bf, data, 4);
        }
        // The refusal at open as older kernels give it.
        try (BlockFile bf = BlockFile.open(f, true, p -> {
            throw new IOException(p + ": open(O_RDONLY|O_DIRECT) failed: " + Posix.describe(Posix.EINVAL));
        }, linuxNative())) {
            assertFalse(bf.direct(), "refused O_DIRECT falls back to buffered");
            if (linuxNative()) assertFalse(hasODirect(fdOf(bf)));
            assertTrue(BlockFile.warnedFileSystems().contains(Files.getFileStore(f).type()), "logged");
            assertAllReads(bf, data, 5);
        }
    }

    /** A file system that takes O_DIRECT at open and refuses the first read: the probe catches it, the descriptor is closed. */
    @Test
    void refusalAtTheFirstReadFallsBackToBuffered() throws IOException {
        assumeTrue(linuxNative());
        Path f = tmp.resolve("probe.bin");
        byte[] data = randomFile(f, 64 * A, 6);
        int[] opened = {-1};
        // A descriptor whose reads fail (EISDIR) stands in for a refusing file system.
        try (BlockFile bf = BlockFile.open(f, true, p -> opened[0] = Posix.open(tmp.toString(), false), true)) {
            assertFalse(bf.direct());
            assertFalse(fdOpenOn(opened[0], tmp), "the refused descriptor was closed");
            assertAllReads(bf, data, 7);
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void truncatedFileIsAClearErrorNeverZeros(Mode mode) throws IOException {
        assumeTrue(mode == Mode.CHANNEL || linuxNative());
        Path f = diskDir().resolve("trunc-" + mode + ".bin");
        cleanup.add(f);
        byte[] data = randomFile(f, 4 * A, 8);
        try (BlockFile bf = mode.open(f)) {
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.truncate(A + 100);
            }
            assertReads(bf, data, 0, A); // what is still there reads fine
            // The file ends 100 bytes into the block: a short read, then the end.
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> assertReads(bf, data, A, A));
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("end of file at offset " + (A + 100)), e.getMessage());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
            // Wholly past the new end.
            e = assertThrows(UncheckedIOException.class, () -> assertReads(bf, data, 2 * A, 2 * A));
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("end of file at offset " + 2 * A), e.getMessage());
            assertTrue(e.getMessage().contains("at offset " + 2 * A), e.getMessage());
        }
        // Truncated before it was opened: the range check says so before reading.
        try (BlockFile bf = mode.open(f)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> assertReads(bf, data, 2 * A, A));
            assertTrue(e.getMessage().contains("runs past the end of the file") && e.getMessage().contains("truncated"),
                    e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void closeTwiceIsFineAndReadsAfterCloseFailClearly(Mode mode) throws IOException {
        assumeTrue(mode == Mode.CHANNEL || linuxNative());
        Path f = tmp.resolve("closed-" + mode + ".bin");
        byte[] data = randomFile(f, 8 * A, 9);
        BlockFile bf = mode.open(f);
        int fd = mode == Mode.CHANNEL ? -1 : fdOf(bf);
        assertReads(bf, data, 0, 8 * A);
        bf.close();
        bf.close();
        assertTrue(bf.closed());
        if (fd >= 0) assertFalse(fdOpenOn(fd, f), "descriptor closed");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> assertReads(bf, data, A, A));
        assertEquals(f + " is closed; cannot read " + A + " bytes at offset " + A, e.getCause().getMessage());
        if (mode != Mode.CHANNEL) {
            e = assertThrows(UncheckedIOException.class, () -> bf.acquireFd(0, A));
            assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        }
        // Through the engine, both ways of issuing reads.
        for (boolean aio : new boolean[] {false, true}) {
            if (aio && (mode == Mode.CHANNEL || LinuxAio.unavailable() != null)) continue;
            try (IoEngine io = new IoEngine(2, A, aio)) {
                ReadBatch b = new ReadBatch(1);
                b.handler((i, s, n) -> fail("no data from a closed file"));
                b.add(bf, 0, A);
                e = assertThrows(UncheckedIOException.class, () -> io.execute(b));
                assertTrue(e.getMessage().contains("is closed"), e.getMessage());
            }
        }
    }

    /** A read in progress (here a native AIO read between submission and completion) keeps the descriptor open past close. */
    @Test
    void closeWaitsForTheLastReadBeforeClosingTheDescriptor() throws IOException {
        assumeTrue(linuxNative());
        Path f = tmp.resolve("held.bin");
        randomFile(f, 4 * A, 10);
        BlockFile bf = BlockFile.open(f, true);
        int fd = bf.acquireFd(0, A);
        bf.close();
        assertTrue(fdOpenOn(fd, f), "still open while a read holds it");
        assertThrows(UncheckedIOException.class, () -> bf.acquireFd(0, A), "no new reads");
        bf.releaseFd();
        assertFalse(fdOpenOn(fd, f), "closed by the last read");
        bf.close();
    }

    /** Readers racing a close: every read returns the right bytes or the closed error, nothing else; the descriptor ends closed. */
    @ParameterizedTest
    @EnumSource(Mode.class)
    void closeDuringConcurrentReads(Mode mode) throws Exception {
        assumeTrue(mode == Mode.CHANNEL || linuxNative());
        Path f = tmp.resolve("race-" + mode + ".bin");
        byte[] data = randomFile(f, 256 * A, 11);
        BlockFile bf = mode.open(f);
        int fd = mode == Mode.CHANNEL ? -1 : fdOf(bf);
        AtomicReference<Throwable> unexpected = new AtomicReference<>();
        AtomicInteger reads = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(4);
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            long seed = t;
            readers.add(Thread.ofPlatform().start(() -> {
                Random r = new Random(seed);
                started.countDown();
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(16 * A, A);
                    while (!stop.get()) {
                        long off = (long) r.nextInt(240) * A;
                        try {
                            bf.readFully(buf, off);
                        } catch (UncheckedIOException e) {
                            if (!e.getMessage().contains("is closed")) unexpected.compareAndSet(null, e);
                            return;
                        }
                        if (buf.mismatch(MemorySegment.ofArray(data).asSlice(off, 16 * A)) != -1) {
                            unexpected.compareAndSet(null, new AssertionError("wrong bytes at " + off));
                            return;
                        }
                        reads.incrementAndGet();
                    }
                } catch (Throwable x) {
                    unexpected.compareAndSet(null, x);
                }
            }));
        }
        started.await();
        while (reads.get() < 200) Thread.onSpinWait();
        bf.close();
        for (Thread t : readers) t.join(30_000);
        stop.set(true);
        if (unexpected.get() != null) throw new AssertionError(unexpected.get());
        if (fd >= 0) assertFalse(fdOpenOn(fd, f), "descriptor closed once the readers left");
    }

    @Test
    void errorsNameTheFileAndTheErrno() throws IOException {
        assertEquals("EINVAL (Invalid argument)", Posix.describe(22));
        assertEquals("ENOENT (No such file or directory)", Posix.describe(2));
        assertEquals("errno 4242", Posix.describe(4242));
        assumeTrue(linuxNative());
        Path missing = tmp.resolve("missing.bin");
        for (boolean direct : new boolean[] {true, false}) {
            IOException e = assertThrows(IOException.class, () -> BlockFile.open(missing, direct));
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        }
        IOException e = assertThrows(IOException.class, () -> Posix.open(missing.toString(), true));
        assertEquals(missing + ": open(O_RDONLY|O_DIRECT) failed: ENOENT (No such file or directory)", e.getMessage());
        e = assertThrows(IOException.class, () -> BlockFile.open(missing, false));
        assertEquals(missing + ": open(O_RDONLY) failed: ENOENT (No such file or directory)", e.getMessage());
    }

    @Test
    void misalignedDirectReadIsRefusedUpFront() throws IOException {
        Path f = diskDir().resolve("align.bin");
        cleanup.add(f);
        randomFile(f, 8 * A, 12);
        try (BlockFile bf = BlockFile.open(f, true); Arena arena = Arena.ofConfined()) {
            assumeTrue(bf.direct());
            MemorySegment buf = arena.allocate(2 * A, A);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bf.readFully(buf.asSlice(0, A), 512));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("aligned"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> bf.readFully(buf.asSlice(8, A), 0));
            assertThrows(IllegalArgumentException.class, () -> bf.readFully(MemorySegment.ofArray(new byte[A]), 0));
        }
    }

    /** Where native access is unavailable the file is read through a FileChannel (buffered), logged once per file system. */
    @Test
    void withoutNativeAccessReadsAreBuffered() throws IOException {
        Path f = tmp.resolve("channel.bin");
        byte[] data = randomFile(f, 32 * A, 13);
        try (BlockFile bf = BlockFile.open(f, true, p -> {
            throw new AssertionError("no native open without native access");
        }, false)) {
            assertFalse(bf.direct());
            assertThrows(IllegalStateException.class, () -> bf.acquireFd(0, A));
            assertAllReads(bf, data, 14);
        }
    }
}
