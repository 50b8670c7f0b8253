package io.flashllm.flashstore.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A file opened for positional reads, with O_DIRECT when the file system allows it so reads bypass
 * the page cache and DRAM use stays what the budget says. Where O_DIRECT is refused (tmpfs before
 * Linux 6.6, some network file systems) the file is read through the page cache and that is logged
 * once per file system type.
 *
 * <p>On Linux (x86-64, AArch64) the file is opened with {@code open(2)} — {@code O_RDONLY|O_CLOEXEC},
 * plus {@code O_DIRECT} when direct — and read with {@code pread(2)}, both through the FFM API
 * ({@link Posix}); the same descriptor serves {@link IoEngine}'s native AIO. Elsewhere, or where
 * the JVM denies native access, reads are buffered through a {@link FileChannel}.
 *
 * <p>Direct reads need the buffer address, file offset and length to be multiples of
 * {@link #ALIGNMENT}; bundle files are laid out that way and {@link IoEngine} buffers are aligned.
 *
 * <p>Closing is idempotent and safe while other threads read: every read holds a use of the
 * descriptor, {@link #close()} stops new uses at once, and the descriptor is closed when the last
 * read in progress (a {@code pread}, or a native AIO read from submission to completion) lets go of
 * it, so a descriptor number is never read after it was closed (and perhaps reused by another open).
 * Reads begun after close fail with an error naming the file.
 */
public final class BlockFile implements AutoCloseable {
    /** Alignment of every direct read (offset, length, buffer address). */
    public static final int ALIGNMENT = 4096;

    private static final System.Logger LOG = System.getLogger(BlockFile.class.getName());
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();
    /** In {@link #uses}: set by close; the bits below count the reads holding the descriptor. */
    private static final long CLOSED = 1L << 62;

    private final Path path;
    private final boolean direct;
    private final long size;
    /** The native descriptor (O_DIRECT when {@link #direct}), or -1 where reads go through {@link #channel}. */
    private final int fd;
    /** Reads where native file access is unavailable (never direct); null when {@link #fd} is used. */
    private final FileChannel channel;
    private final AtomicLong uses = new AtomicLong();

    private BlockFile(Path path, int fd, FileChannel channel, boolean direct, long size) {
        this.path = path;
        this.fd = fd;
        this.channel = channel;
        this.direct = direct;
        this.size = size;
    }

    /** Opens {@code path} for reading, direct if {@code preferDirect} and the file system allows. */
    public static BlockFile open(Path path, boolean preferDirect) throws IOException {
        return open(path, preferDirect, p -> Posix.open(p.toString(), true), Posix.unavailable() == null);
    }

    /** How a direct descriptor is obtained; tests substitute one that refuses, as some file systems do. */
    @FunctionalInterface
    interface DirectOpener {
        int open(Path path) throws IOException;
    }

    /**
     * @param nativeAccess false reads through a {@link FileChannel} as where {@link Posix} is
     *                     unavailable (tests force that path with it)
     */
    static BlockFile open(Path path, boolean preferDirect, DirectOpener opener, boolean nativeAccess) throws IOException {
        if (preferDirect) {
            String refusal;
            if (!nativeAccess) {
                refusal = Posix.unavailable() != null ? "no native file access: " + Posix.unavailable()
                        : "native file access not used";
            } else {
                try {
                    int block = blockSize(path);
                    if (ALIGNMENT % block == 0) {
                        int fd = opener.open(path);
                        String probe;
                        long size = -1;
                        try {
                            // Some file systems accept O_DIRECT at open and refuse it at the first read.
                            probe = probe(path, fd);
                            if (probe == null) size = size(path, fd);
                        } catch (IOException | RuntimeException | Error e) {
                            Posix.close(fd);
                            throw e;
                        }
                        if (probe == null) return new BlockFile(path, fd, null, true, size);
                        Posix.close(fd);
                        refusal = probe;
                    } else {
                        refusal = "file system block size " + block + " does not divide " + ALIGNMENT;
                    }
                } catch (IOException e) {
                    if (!Files.isRegularFile(path)) throw e;
                    refusal = String.valueOf(e.getMessage());
                }
            }
            String fsType = fileStoreType(path);
            if (WARNED.add(fsType)) {
                LOG.log(System.Logger.Level.WARNING, "O_DIRECT refused on " + fsType + " file system (" + path + ": "
                        + refusal + "); reading through the page cache, which then counts against DRAM");
            }
        }
        if (!nativeAccess) {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            try {
                return new BlockFile(path, -1, ch, false, ch.size());
            } catch (RuntimeException | Error e) {
                ch.close();
                throw e;
            }
        }
        int fd = Posix.open(path.toString(), false);
        try {
            return new BlockFile(path, fd, null, false, size(path, fd));
        } catch (IOException | RuntimeException | Error e) {
            Posix.close(fd);
            throw e;
        }
    }

    /**
     * Reads the first block directly; returns why that failed, or null when direct reads work. An
     * aligned read at offset 0 is legal on a file shorter than a block (it returns fewer bytes), so
     * short files are probed too.
     */
    private static String probe(Path path, int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Posix.newCallState(arena);
            MemorySegment buf = arena.allocate(ALIGNMENT, ALIGNMENT);
            while (true) {
                if (Posix.pread(fd, buf, ALIGNMENT, 0, state) >= 0) return null;
                int errno = Posix.errno(state);
                if (errno != Posix.EINTR) return "direct read failed: " + Posix.describe(errno);
            }
        }
    }

    private static long size(Path path, int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Posix.newCallState(arena);
            long size = Posix.size(fd, state);
            if (size < 0) throw new IOException(path + ": lseek to the end failed: " + Posix.describe(Posix.errno(state)));
            return size;
        }
    }

    /** File system types that refused O_DIRECT and were logged (each once). */
    static Set<String> warnedFileSystems() {
        return Set.copyOf(WARNED);
    }

    private static int blockSize(Path path) throws IOException {
        long b = Files.getFileStore(path).getBlockSize();
        return b <= 0 || b > Integer.MAX_VALUE ? ALIGNMENT : (int) b;
    }

    private static String fileStoreType(Path path) {
        try {
            return Files.getFileStore(path).type();
        } catch (IOException e) {
            return "unknown";
        }
    }

    public Path path() {
        return path;
    }

    public boolean direct() {
        return direct;
    }

    /** The file's size when it was opened. */
    public long size() {
        return size;
    }

    /**
     * Reads exactly {@code dst.byteSize()} bytes at {@code offset} into {@code dst}, a native
     * segment. For a direct file the segment's address, the offset and the length must be multiples
     * of {@link #ALIGNMENT}.
     *
     * @throws UncheckedIOException when the read fails (naming the file, offset and errno), when the
     *         file ends before the last byte (it is truncated), or when this file is closed
     */
    public void readFully(MemorySegment dst, long offset) {
        try (Arena arena = Arena.ofConfined()) {
            readFully(dst, offset, Posix.unavailable() == null ? Posix.newCallState(arena) : null);
        }
    }

    /** As {@link #readFully(MemorySegment, long)}, errno captured in {@code state} (a reader's own, reused). */
    void readFully(MemorySegment dst, long offset, MemorySegment state) {
        long length = dst.byteSize();
        checkRange(offset, length);
        if (direct && (!dst.isNative() || ((dst.address() | offset | length) & (ALIGNMENT - 1)) != 0)) {
            throw new IllegalArgumentException(path + ": a direct read needs a native buffer, offset and length aligned to "
                    + ALIGNMENT + "; got " + length + " bytes at offset " + offset + " into "
                    + (dst.isNative() ? "address 0x" + Long.toHexString(dst.address()) : "a heap buffer"));
        }
        acquire(offset, length);
        try {
            if (channel != null) {
                readChannel(dst, offset);
            } else {
                readNative(dst, offset, state);
            }
        } finally {
            release();
        }
    }

    /** {@code pread} until the segment is full: short reads continue where they stopped, EINTR is retried. */
    private void readNative(MemorySegment dst, long offset, MemorySegment state) {
        long length = dst.byteSize();
        long done = 0;
        while (done < length) {
            long pos = offset + done;
            long n = Posix.pread(fd, done == 0 ? dst : dst.asSlice(done), length - done, pos, state);
            if (n < 0) {
                int errno = Posix.errno(state);
                if (errno == Posix.EINTR) continue;
                throw new UncheckedIOException(new IOException(path + ": read of " + (length - done) + " bytes at offset "
                        + pos + " failed: " + Posix.describe(errno)));
            }
            if (n == 0) throw truncated(offset, length, pos);
            done += n;
            // A direct read that stops short of a block boundary has usually met the end of the file,
            // and reading on from there would be refused (EINVAL) rather than say so: ask the size.
            if (direct && done < length && (done & (ALIGNMENT - 1)) != 0) {
                long now = Posix.size(fd, state);
                if (now >= 0 && now <= offset + done) throw truncated(offset, length, offset + done);
            }
        }
    }

    private void readChannel(MemorySegment dst, long offset) {
        ByteBuffer bb = dst.asByteBuffer();
        long pos = offset;
        try {
            while (bb.hasRemaining()) {
                int n = channel.read(bb, pos);
                if (n < 0) throw truncated(offset, dst.byteSize(), pos);
                pos += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": read at offset " + pos + " failed: " + e.getMessage(), e);
        }
    }

    private UncheckedIOException truncated(long offset, long length, long end) {
        return new UncheckedIOException(new IOException(path + ": end of file at offset " + end + " while reading "
                + length + " bytes at offset " + offset + "; the file is truncated (it had " + size
                + " bytes when opened)"));
    }

    /** Throws the error a read of {@code length} bytes at {@code offset} past the end of the file gets. */
    void checkRange(long offset, long length) {
        if (offset < 0 || offset + length > size) {
            throw new UncheckedIOException(new IOException(path + ": read of " + length + " bytes at offset " + offset
                    + " runs past the end of the file (" + size + " bytes); the file is truncated"));
        }
    }

    /** The error of a native read that failed with {@code errno} or came back {@code got} bytes short. */
    UncheckedIOException readFailed(long offset, int length, long result) {
        if (result >= 0 && result < length) {
            return new UncheckedIOException(new IOException(path + ": read of " + length + " bytes at offset " + offset
                    + " returned " + result + " bytes; the file is truncated (it had " + size + " bytes when opened)"));
        }
        String what = result < 0 ? "failed: " + Posix.describe((int) -result) : "returned " + result + " of " + length + " bytes";
        return new UncheckedIOException(new IOException(path + ": read of " + length + " bytes at offset " + offset + " " + what));
    }

    /**
     * The native descriptor, for a native AIO read of {@code length} bytes at {@code offset}: held
     * from before submission until {@link #releaseFd()} after its completion was reaped, so closing
     * this file meanwhile cannot close it under the read.
     *
     * @throws UncheckedIOException when this file is closed
     * @throws IllegalStateException where the file is read through a channel (no native access)
     */
    int acquireFd(long offset, long length) {
        if (channel != null) throw new IllegalStateException(path + ": no native descriptor (native access unavailable)");
        acquire(offset, length);
        return fd;
    }

    /** Ends the use {@link #acquireFd} began. */
    void releaseFd() {
        release();
    }

    private void acquire(long offset, long length) {
        while (true) {
            long u = uses.get();
            if ((u & CLOSED) != 0) {
                throw new UncheckedIOException(new IOException(path + " is closed; cannot read " + length
                        + " bytes at offset " + offset));
            }
            if (uses.compareAndSet(u, u + 1)) return;
        }
    }

    private void release() {
        if (uses.decrementAndGet() == CLOSED) closeDescriptor(); // the last read after close
    }

    /** True once {@link #close()} was called (the descriptor may stay open until reads in progress finish). */
    boolean closed() {
        return (uses.get() & CLOSED) != 0;
    }

    /**
     * Closes the file; later reads fail. Reads already in progress finish, and the last of them
     * closes the descriptor. Calling this again does nothing.
     */
    @Override
    public void close() throws IOException {
        long u;
        do {
            u = uses.get();
            if ((u & CLOSED) != 0) return;
        } while (!uses.compareAndSet(u, u | CLOSED));
        if (u == 0) closeDescriptor();
    }

    /** Runs exactly once: by close when no read holds the descriptor, else by the last read to let go. */
    private void closeDescriptor() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "closing " + path + " failed: " + e.getMessage());
            }
            return;
        }
        int errno = Posix.close(fd);
        if (errno != 0) LOG.log(System.Logger.Level.WARNING, "closing " + path + " failed: " + Posix.describe(errno));
    }
}
